import { LineSplitter } from "@socklab/core";
import type { MuxHandler } from "./multiplexer.ts";
import type { MuxConnection } from "./mux_connection.ts";

/** Options of {@linkcode chat}. */
export interface ChatOptions {
  /**
   * The most bytes that may wait for one receiver; past it that slow consumer is
   * disconnected with a reason, so it never stalls the others (default 1 MiB).
   */
  maxPending?: number;
  /**
   * Prefix each relayed line with its sender, as `ncat --chat` does (`<user3> hello`);
   * without it bytes are relayed as they are, as `ncat --broker` does (default true).
   */
  names?: boolean;
  /** Longest line in named mode; a longer line disconnects its sender (default 64 KiB). */
  maxLineLength?: number;
}

interface ChatState {
  splitter: LineSplitter;
}

/**
 * A chat broker (like `ncat --chat` / `--broker`): what one client sends goes to
 * every other stream client. A receiver that does not keep up is disconnected
 * once `maxPending` bytes wait for it; the sender and everyone else go on.
 *
 * @param options Buffer bound and naming.
 * @returns The handler.
 * @example
 * ```ts
 * import { chat, Multiplexer } from "@socklab/multiplex";
 * const mux = new Multiplexer(chat({ maxPending: 256 * 1024 }));
 * ```
 */
export function chat(options: ChatOptions = {}): MuxHandler {
  const maxPending = options.maxPending ?? 1024 * 1024;
  const names = options.names ?? true;
  const maxLineLength = options.maxLineLength ?? 64 * 1024;
  const members = new Set<MuxConnection>();
  const relay = (from: MuxConnection, data: Uint8Array): void => {
    for (const member of members) {
      if (member !== from) member.send(data, maxPending);
    }
  };
  const announce = (text: string, except?: MuxConnection): void => {
    const bytes = Buffer.from(text);
    for (const member of members) if (member !== except) member.send(bytes, maxPending);
  };
  return {
    open(connection) {
      connection.state = {
        splitter: new LineSplitter({ maxLineLength, keepEnds: true }),
      } satisfies ChatState;
      members.add(connection);
      if (names)
        announce(`<server> user${connection.id} joined (${members.size} here)\n`, connection);
    },
    data(connection, chunk) {
      if (!names) {
        relay(connection, chunk);
        return;
      }
      let lines: Buffer[];
      try {
        lines = (connection.state as ChatState).splitter.push(chunk);
      } catch {
        connection.close(`line longer than ${maxLineLength} bytes`);
        return;
      }
      if (lines.length === 0) return;
      const prefix = Buffer.from(`<user${connection.id}> `);
      relay(connection, Buffer.concat(lines.flatMap((line) => [prefix, line])));
    },
    end(connection) {
      connection.end();
    },
    close(connection, reason) {
      members.delete(connection);
      if (names) announce(`<server> user${connection.id} left (${reason})\n`);
    },
  };
}
