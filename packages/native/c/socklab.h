/*
 * socklab's Node-API addon: what the C files share.
 *
 * Every file adds its functions to the one `exports` object in its init
 * function, called from addon.c. NAPI_VERSION 8 (Node 12.22+, every Node
 * socklab supports) keeps the binary to the ABI-stable Node-API, so one build
 * per platform serves every Node version; libuv (uv_poll in unix_dgram.c) is
 * ABI-stable within its major version 1, which every Node since 0.12 ships.
 */
#ifndef SOCKLAB_H
#define SOCKLAB_H

#define NAPI_VERSION 8
#include <node_api.h>

/* unix_dgram.c; it owns the environment's instance data (napi_set_instance_data). */
napi_value socklab_unix_dgram_init(napi_env env, napi_value exports);
/* unix_stream.c */
napi_value socklab_unix_stream_init(napi_env env, napi_value exports);

#endif
