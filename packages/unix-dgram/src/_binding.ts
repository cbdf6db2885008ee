/**
 * The native `unix-dgram` binding, used directly rather than through its
 * JavaScript wrapper: the wrapper throws inside the native receive callback
 * when `recvmsg` fails (`buf.length` of `null`), which would crash the process,
 * and it allocates an `Error` for every congested send.
 *
 * What the binding does (src/unix_dgram.cc, 2.0.7), and what the callers
 * must make up for:
 * - every function returns a negative errno on failure, never throws;
 * - `socket()` starts a `uv_poll` watcher on the main thread's loop at once and
 *   reads each datagram into a 65,536-byte buffer with no `MSG_TRUNC` check, so
 *   longer datagrams arrive silently cut; the watcher keeps the process alive
 *   until `close()`; it cannot be paused;
 * - paths are copied with `strncpy` into 107 bytes: a longer path is silently cut
 *   and an abstract name (leading NUL) becomes the empty name;
 * - `send()` (connected sockets) returns 1 on EAGAIN/ENOBUFS and arms a one-shot
 *   writable callback; `sendto()` just returns `-EAGAIN`;
 * - `close()` twice, or any call on a closed descriptor, trips a C `assert`.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { isMainThread } from "node:worker_threads";
import { SocklabError } from "@socklab/core";

/** Called once per received datagram: `status` is its length or a negative errno. */
export type RecvCallback = (status: number, data: Buffer | null, from: string | null) => void;

/** The functions `unix_dgram.node` exports. */
export interface UnixDgramBinding {
  readonly AF_UNIX: number;
  readonly SOCK_DGRAM: number;
  /** Returns the descriptor (non-blocking, close-on-exec) or a negative errno. */
  socket(
    domain: number,
    type: number,
    protocol: number,
    onRecv: RecvCallback,
    onWritable: () => void,
  ): number;
  bind(fd: number, path: string): number;
  connect(fd: number, path: string): number;
  /** 0, or a negative errno (`-EAGAIN` when the receiver's queue is full). */
  sendto(fd: number, data: Uint8Array, offset: number, length: number, path: string): number;
  /** 0, 1 when congested (the writable callback is armed), or a negative errno. */
  send(fd: number, data: Uint8Array): number;
  close(fd: number): number;
}

let binding: UnixDgramBinding | undefined;

/**
 * Loads the binding on first use, so importing the package never loads it.
 *
 * @returns The binding.
 * @throws {SocklabError} `ERR_SOCKLAB_UNSUPPORTED` in a worker thread, or when the
 *   native module was not built.
 */
export function loadBinding(): UnixDgramBinding {
  if (binding !== undefined) return binding;
  if (!isMainThread) {
    // Its watchers run on the main thread's loop and call into this thread's
    // isolate without a lock: V8 aborts the whole process.
    throw new SocklabError(
      "Cannot use UNIX datagram sockets in a worker thread: the unix-dgram binding only works on the main thread (in vitest, use the forks pool)",
      { code: "ERR_SOCKLAB_UNSUPPORTED" },
    );
  }
  try {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve("unix-dgram/package.json");
    const bindings = createRequire(packageJson)("bindings") as (options: {
      bindings: string;
      module_root: string;
    }) => UnixDgramBinding;
    binding = bindings({ bindings: "unix_dgram.node", module_root: dirname(packageJson) });
  } catch (err) {
    throw new SocklabError(
      `Cannot load the unix-dgram native binding: ${(err as Error).message.split("\n")[0]} (was it built? run "npm rebuild unix-dgram")`,
      { code: "ERR_SOCKLAB_UNSUPPORTED", cause: err },
    );
  }
  return binding;
}
