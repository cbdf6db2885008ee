import { openSocket } from "./_open_socket.ts";
import type { UnixDgramSocket, UnixDgramSocketOptions } from "./unix_dgram_socket.ts";

/** Options of {@linkcode openUnixDgram}. */
export interface OpenUnixDgramOptions extends UnixDgramSocketOptions {
  /**
   * Bind a path so receivers can reply: `"auto"` for a private temp path (in a
   * fresh directory only this user can enter, removed on close), or a socket
   * path (prepared as by {@linkcode bindUnixDgram}; write `./auto` for a file
   * named `auto`). Unbound by default, like the tutorial's listing 3.11.
   */
  bind?: string;
  /** The file mode of a bound path. Default `0o600`: only this user may send to it. */
  mode?: number;
  /**
   * Connect to this receiver: `send(data)` goes there, a full queue is waited
   * out with the kernel's writable events instead of retries, and only this
   * receiver can send to the socket.
   */
  connect?: string;
}

/**
 * Opens a UNIX datagram socket for sending (and, when bound, for replies).
 *
 * @param options Bind (`"auto"` or a path), connect, mode, send timeout, size limit.
 * @returns The open socket; close it, or the process stays alive.
 * @throws {SocketError} when binding or connecting fails (`ENOENT`: no such socket,
 *   `ECONNREFUSED`: a stale socket file, `EACCES`, …); {@linkcode AddressInUseError}
 *   when a live program is bound to the path; {@linkcode NotASocketError} for a file
 *   that is not a socket; `SocklabError` `ERR_SOCKLAB_UNSUPPORTED` in a worker thread.
 * @example
 * ```ts
 * import { openUnixDgram } from "@socklab/unix-dgram";
 * const client = await openUnixDgram({ bind: "auto", connect: "/tmp/unixsocket_udp" });
 * await client.send("Hallo Welt!");
 * const reply = await client.receive({ timeoutMs: 1000 });
 * await client.close(); // removes the private temp path
 * ```
 */
export function openUnixDgram(options: OpenUnixDgramOptions = {}): Promise<UnixDgramSocket> {
  const { bind, ...rest } = options;
  return openSocket({
    ...rest,
    auto: bind === "auto",
    bindPath: bind === "auto" ? undefined : bind,
  });
}
