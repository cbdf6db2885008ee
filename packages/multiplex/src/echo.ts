import type { MuxHandler } from "./multiplexer.ts";

/**
 * The tutorial's echo (listing 3.15 with `sock.send(data)` switched on), done
 * right: every byte goes back to its sender, reading pauses while the sender does
 * not read its echo (so memory stays bounded), datagrams are answered to their
 * sender, and a half-close is answered with a half-close after the last echo.
 *
 * @returns The handler.
 * @example
 * ```ts
 * import { echo, Multiplexer } from "@socklab/multiplex";
 * const mux = new Multiplexer(echo());
 * ```
 */
export function echo(): MuxHandler {
  return {
    data(connection, chunk) {
      connection.write(chunk);
    },
    datagram(datagram) {
      if (datagram.from === undefined) return;
      datagram.reply(datagram.data).catch(() => {
        // The sender is gone (a UNIX client that closed, ICMP unreachable): nothing to answer.
      });
    },
  };
}
