/**
 * A TCP client for the tutorial's section 3.2, hardened: connects to a host the
 * way browsers do (every address, Happy Eyeballs), with a timeout and one clear
 * line for every failure, and reads in the tutorial's terms (`recv(4096)`) or
 * Node's (`for await`). Everything a client needs is exported here: the
 * connection class and the errors to catch.
 *
 * @example
 * ```ts
 * import { connectTcp } from "@socklab/tcp-client";
 *
 * // The tutorial's client (listing 3.3), with the blank line that completes the request.
 * const conn = await connectTcp({ host: "localhost", port: 50000 });
 * await conn.write("GET / HTTP/1.0\r\n\r\n");
 * const data = await conn.recv(4096);
 * console.log(data.toString("utf8"));
 * await conn.close();
 * ```
 *
 * @module
 */
export {
  AddressError,
  bytesRepr,
  ClosedError,
  IncompleteReadError,
  LimitExceededError,
  parseEscapes,
  type ReadOptions,
  SocketError,
  SocklabError,
  StreamConnection,
  type StreamPeerAddress,
  TimeoutError,
} from "@socklab/core";
export * from "./connect_tcp.ts";
export * from "./fetch_page.ts";
