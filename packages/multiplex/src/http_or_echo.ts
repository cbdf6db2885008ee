import type { ConnectionHandler } from "@socklab/core";
import { echo } from "./echo.ts";
import type { MuxHandler } from "./multiplexer.ts";
import type { MuxConnection } from "./mux_connection.ts";

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"];
/** Enough bytes to tell a method token and its space from anything else. */
const SNIFF_BYTES = 8;

interface Sniffing {
  head: Buffer;
}

function looksLikeHttp(head: Buffer): boolean | undefined {
  const text = head.toString("latin1", 0, Math.min(head.length, SNIFF_BYTES));
  for (const method of METHODS) {
    const token = `${method} `;
    if (text.startsWith(token)) return true;
    if (token.startsWith(text)) return text.length < SNIFF_BYTES ? undefined : false;
  }
  return false;
}

/**
 * Serves HTTP and raw echo on one port, as the lab's TCP listener does: a
 * connection whose first bytes are an HTTP method and a space is handed to
 * `http` (the hello-web page, for one); anything else — telnet, nc — is echoed.
 * A partial method (`GE`) waits for its next bytes before deciding.
 *
 * @param http Serves the HTTP connections, with the stream-connection API.
 * @param other Serves the rest (default {@linkcode echo}).
 * @returns The handler, with datagrams passed to `other`.
 * @example
 * ```ts
 * import { helloWeb } from "@socklab/tcp-server";
 * import { httpOrEcho, Multiplexer } from "@socklab/multiplex";
 * const mux = new Multiplexer(httpOrEcho(helloWeb()));
 * ```
 */
export function httpOrEcho(http: ConnectionHandler, other: MuxHandler = echo()): MuxHandler {
  const closing = new AbortController();
  const serveHttp = (connection: MuxConnection, head: Buffer): void => {
    const stream = connection.handOff(head);
    Promise.resolve(http(stream, { signal: closing.signal, listener: connection.local }))
      .then(
        () => stream.close(),
        (err: Error) => {
          connection.closeReason = err.message;
          stream.destroy();
        },
      )
      .catch(() => {});
  };
  return {
    open(connection) {
      connection.state = { head: Buffer.alloc(0) } satisfies Sniffing;
      other.open?.(connection);
    },
    data(connection, chunk) {
      const sniffing = connection.state as Sniffing | undefined;
      if (sniffing === undefined) {
        other.data?.(connection, chunk);
        return;
      }
      const head = sniffing.head.length === 0 ? chunk : Buffer.concat([sniffing.head, chunk]);
      const verdict = looksLikeHttp(head);
      if (verdict === undefined) {
        sniffing.head = head;
        return;
      }
      connection.state = undefined;
      if (verdict) serveHttp(connection, head);
      else other.data?.(connection, head);
    },
    end(connection) {
      const sniffing = connection.state as Sniffing | undefined;
      if (sniffing !== undefined && sniffing.head.length > 0) {
        connection.state = undefined;
        other.data?.(connection, sniffing.head);
      }
      if (other.end) other.end(connection);
      else connection.end();
    },
    close(connection, reason) {
      other.close?.(connection, reason);
    },
    datagram(datagram) {
      other.datagram?.(datagram);
    },
    shutdown() {
      closing.abort(new Error("The server is closing"));
      other.shutdown?.();
    },
  };
}
