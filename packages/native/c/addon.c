/*
 * socklab's Node-API addon, `socklab_native.node`: the system calls Node does
 * not offer. Linux only (recvmmsg, abstract names); the loader in
 * src/_addon.ts says so on other systems before it gets here.
 *
 * The parts:
 * - unix_dgram.c: AF_UNIX SOCK_DGRAM sockets with batched receive (recvmmsg);
 * - unix_stream.c: AF_UNIX SOCK_STREAM descriptors bound or connected with
 *   the exact address length, for Node's `net` to take over with `{ fd }`.
 */
#include "socklab.h"

NAPI_MODULE_INIT() {
  if (socklab_unix_dgram_init(env, exports) == NULL) return NULL;
  if (socklab_unix_stream_init(env, exports) == NULL) return NULL;
  return exports;
}
