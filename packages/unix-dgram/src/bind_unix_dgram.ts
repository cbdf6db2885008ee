import { openSocket } from "./_open_socket.ts";
import { checkUnixDgramPath } from "./check_unix_dgram_path.ts";
import type { UnixDgramSocket, UnixDgramSocketOptions } from "./unix_dgram_socket.ts";

/** Options of {@linkcode bindUnixDgram}. */
export interface BindUnixDgramOptions extends UnixDgramSocketOptions {
  /** The socket path, such as the tutorial's `/tmp/unixsocket_udp`. */
  path: string;
  /** `path` is a Linux abstract name (no file; the socket's `path` reads `@name`). A path `@name` is abstract too. */
  abstract?: boolean;
  /** The socket file's mode. Default `0o600`: only this user may send to it. */
  mode?: number;
}

/**
 * Binds a UNIX datagram socket on a path, the tutorial's listing 3.10 made safe:
 * a stale socket file is removed first, a path a live program is bound to is
 * refused (never stolen), anything that is not a socket is refused and left
 * alone, and the path is checked against the kernel's 107-byte limit. The file
 * gets `mode` and is removed on close, unless another socket has replaced it.
 *
 * @param options Path, mode, send timeout, size limit.
 * @returns The bound socket; close it, or the process stays alive.
 * @throws {AddressInUseError} when a live program is bound to the path.
 * @throws {NotASocketError} when the path is a regular file, directory, …
 * @throws {SocketError} for other failures (`EACCES`: the directory is not writable, …).
 * @throws {SocklabError} `ERR_SOCKLAB_UNSUPPORTED` in a worker thread.
 * @example
 * ```ts
 * import { bindUnixDgram } from "@socklab/unix-dgram";
 * const server = await bindUnixDgram({ path: "/tmp/unixsocket_udp" });
 * const { data, from } = await server.receive();
 * await server.close();
 * ```
 */
export function bindUnixDgram(options: BindUnixDgramOptions): Promise<UnixDgramSocket> {
  try {
    checkUnixDgramPath(options.path, options.abstract ?? false);
  } catch (err) {
    return Promise.reject(err);
  }
  const { path, abstract, ...rest } = options;
  return openSocket({ ...rest, auto: false, bindPath: abstract ? `@${path}` : path });
}
