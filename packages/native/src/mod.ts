/**
 * socklab's Node-API addon: the system calls Node does not offer. One small C
 * addon (`c/*.c`), prebuilt for linux-x64 and linux-arm64 (glibc) and loaded
 * with `node-gyp-build`; compiled at install only where no prebuilt binary
 * fits. Linux only: elsewhere the first call throws `ERR_SOCKLAB_UNSUPPORTED`
 * and says what is missing; importing never loads the addon.
 *
 * - UNIX datagram sockets with batched receive (`recvmmsg`), for `@socklab/unix-dgram`;
 * - UNIX stream sockets bound or connected to an abstract name exactly, which
 *   Node 20's `net` cannot (it pads the name with NULs to 108 bytes).
 *
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { listenAbstractStream, netPadsAbstractNames } from "@socklab/native";
 * const server = createServer((socket) => socket.end("hello\n"));
 * if (netPadsAbstractNames()) server.listen({ fd: listenAbstractStream("socklab") });
 * else server.listen("\0socklab");
 * ```
 *
 * @module
 */
export * from "./connect_abstract_stream.ts";
export * from "./exact_abstract_stream_binder.ts";
export * from "./listen_abstract_stream.ts";
export * from "./net_pads_abstract_names.ts";
export * from "./unix_dgram_binding.ts";
