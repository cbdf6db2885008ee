/**
 * socklab's Node-API addon: the system calls Node does not offer. One small C
 * addon (`c/*.c`), loaded with `node-gyp-build`. Linux only: elsewhere the
 * first call throws `ERR_SOCKLAB_UNSUPPORTED` and says what is missing;
 * importing never loads the addon.
 *
 * - UNIX datagram sockets with batched receive (`recvmmsg`), for `@socklab/unix-dgram`.
 *
 * @example
 * ```ts
 * import { loadUnixDgramBinding } from "@socklab/native";
 * loadUnixDgramBinding().BATCH; // 64
 * ```
 *
 * @module
 */
export * from "./unix_dgram_binding.ts";
