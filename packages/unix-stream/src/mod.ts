/**
 * UNIX stream sockets (tutorial 3.3.3–3.3.4) with safe socket-file handling: a
 * stale file left by a crashed server is removed, a live server's socket is
 * never stolen, files that are not sockets are never touched, the socket file
 * gets an explicit mode (`0600` by default) and is removed on close. Linux
 * abstract names (`abstract: true`, `unix:@name`) work too and leave no file.
 *
 * Connections are core's {@linkcode StreamConnection}, the same API as TCP:
 * `recv`, `readUntil`, `readExactly`, `readToEnd`, async iteration, `write`
 * with backpressure, `end` (half-close) and `close`. Everything a user needs is
 * exported from here.
 *
 * @example
 * ```ts
 * import { connectUnix, listenUnix } from "@socklab/unix-stream";
 *
 * const server = await listenUnix({
 *   path: "/tmp/unixsocket_tcp",
 *   handler: async (conn) => {
 *     for await (const chunk of conn) await conn.write(chunk); // echo
 *   },
 * });
 * const conn = await connectUnix({ path: "/tmp/unixsocket_tcp" });
 * await conn.end("Hallo Welt!");
 * (await conn.readToEnd()).toString(); // "Hallo Welt!"
 * await conn.close();
 * await server.close(); // removes /tmp/unixsocket_tcp
 * ```
 *
 * @module
 */

export {
  AddressInUseError,
  ClosedError,
  type ConnectionContext,
  type ConnectionHandler,
  IncompleteReadError,
  LimitExceededError,
  NotASocketError,
  parseUnixPath,
  type ReadOptions,
  SocketError,
  SocklabError,
  StreamConnection,
  type StreamConnectionOptions,
  StreamServer,
  type StreamServerStats,
  TimeoutError,
  UNIX_PATH_MAX,
  type UnixPath,
} from "@socklab/core";
export * from "./connect_unix.ts";
export * from "./file_mode.ts";
export * from "./listen_unix.ts";
