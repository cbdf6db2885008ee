/**
 * The UNIX datagram part of socklab's addon (`c/unix_dgram.c`), used by
 * `@socklab/unix-dgram`.
 *
 * What it does, and what the callers must know:
 * - every function returns a negative errno on failure, never throws for a
 *   system error; a call on a closed or unknown descriptor returns `-EBADF`;
 * - `socket()` starts a `uv_poll` watcher at once; on each wake-up it reads up
 *   to {@linkcode UnixDgramBinding.BATCH} datagrams with `recvmmsg` and calls
 *   `onRecv` once for all of them: their payloads back to back in one Buffer,
 *   length and flags of datagram `i` in `meta[2i]` and `meta[2i + 1]`
 *   ({@linkcode FLAG_TRUNCATED}: longer than the 65,536-byte slot, known exactly
 *   from `MSG_TRUNC`), and the senders (a path, an abstract name with its
 *   leading NUL, or `null` for an unbound sender);
 * - the watcher keeps the process alive until `close()`;
 * - addresses are passed with their length: an abstract name (leading NUL)
 *   stays itself, and a path over 107 bytes fails with `-ENAMETOOLONG`;
 * - `send()` (connected sockets) returns 1 on EAGAIN/ENOBUFS and arms a one-shot
 *   writable callback; `sendto()` just returns `-EAGAIN`.
 *
 * @module
 */
import { isMainThread } from "node:worker_threads";
import { SocklabError } from "@socklab/core";
import { loadAddon } from "./_addon.ts";

/**
 * Called once per wake-up: `count` datagrams (lengths and flags in the socket's
 * `meta`), or `count` < 0, a negative errno, with no data.
 */
export type RecvCallback = (
  count: number,
  data?: Buffer,
  from?: readonly (string | null)[],
) => void;

/** `meta[2i + 1]` bit: the datagram was longer than the receive slot and was cut. */
export const FLAG_TRUNCATED = 1;

/** The datagram functions of `socklab_native.node`. */
export interface UnixDgramBinding {
  readonly AF_UNIX: number;
  readonly SOCK_DGRAM: number;
  /** The most datagrams one `onRecv` call carries. */
  readonly BATCH: number;
  /** The receive slot per datagram, in bytes. */
  readonly SLOT: number;
  /**
   * Returns the descriptor (non-blocking, close-on-exec) or a negative errno.
   * `meta` (at least `2 * BATCH` entries) is kept and filled before each `onRecv`.
   */
  socket(
    domain: number,
    type: number,
    protocol: number,
    onRecv: RecvCallback,
    onWritable: () => void,
    meta: Int32Array,
  ): number;
  bind(fd: number, path: string): number;
  connect(fd: number, path: string): number;
  /** 0, or a negative errno (`-EAGAIN` when the receiver's queue is full). */
  sendto(fd: number, data: Uint8Array, offset: number, length: number, path: string): number;
  /** 0, 1 when congested (the writable callback is armed), or a negative errno. */
  send(fd: number, data: Uint8Array): number;
  /** `SO_SNDBUF` in bytes, or a negative errno. */
  sndbuf(fd: number): number;
  /** 0, or `-EBADF` when already closed. */
  close(fd: number): number;
}

/**
 * Loads the datagram binding on first use, so importing a package never loads it.
 *
 * @returns The binding.
 * @throws {SocklabError} `ERR_SOCKLAB_UNSUPPORTED` in a worker thread, on a
 *   system other than Linux, or when no binary fits and none was built.
 * @example
 * ```ts
 * import { loadUnixDgramBinding } from "@socklab/native";
 * const b = loadUnixDgramBinding();
 * b.BATCH; // 64
 * ```
 */
export function loadUnixDgramBinding(): UnixDgramBinding {
  if (!isMainThread) {
    // The addon is context-aware and would work, but the package promises main-thread use only.
    throw new SocklabError(
      "Cannot use UNIX datagram sockets in a worker thread: this package is for the main thread only (in vitest, use the forks pool)",
      { code: "ERR_SOCKLAB_UNSUPPORTED" },
    );
  }
  return loadAddon();
}
