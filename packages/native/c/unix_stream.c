/*
 * AF_UNIX SOCK_STREAM descriptors with the exact address length.
 *
 * Why: Node 20's `net` binds and connects an abstract name ("\0name") with the
 * address padded by NULs to all 108 bytes of sun_path, so the kernel sees the
 * name "name\0\0\0...": Python, socat and nc, which pass the exact length,
 * cannot reach it, nor it them. These functions make the descriptor with the
 * length the caller gives (the bytes of sun_path, abstract names with their
 * leading NUL), then `net` takes it over with `{ fd }`.
 *
 * Both return the descriptor (close-on-exec, non-blocking, as libuv wants it)
 * or, on failure, an object { errno: -errno, syscall: "socket" | "bind" |
 * "listen" | "connect" }; the descriptor is closed then.
 */
#define _GNU_SOURCE
#include "socklab.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value failure(napi_env env, int fd, int err, const char* syscall) {
  if (fd >= 0) close(fd);
  napi_value out, errno_value, syscall_value;
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  napi_create_int32(env, -err, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, out, "errno", errno_value);
  napi_set_named_property(env, out, "syscall", syscall_value);
  return out;
}

static napi_value descriptor(napi_env env, int fd) {
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/*
 * Reads the address bytes (a Uint8Array of 1 to 108 bytes: sun_path, exactly
 * as long as the address is) into `addr`; returns the address length, or 0
 * after throwing a TypeError.
 */
static socklen_t address_arg(napi_env env, napi_value value, struct sockaddr_un* addr) {
  napi_typedarray_type type;
  size_t n = 0;
  void* data = NULL;
  if (napi_get_typedarray_info(env, value, &type, &n, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array || n == 0 || n > sizeof(addr->sun_path)) {
    napi_throw_type_error(env, NULL, "The address must be a Uint8Array of 1 to 108 bytes");
    return 0;
  }
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, data, n);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static int stream_socket(void) {
  return socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

/* streamListen(address, backlog) -> fd, or { errno, syscall } */
static napi_value js_stream_listen(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  struct sockaddr_un addr;
  socklen_t len = address_arg(env, argv[0], &addr);
  if (len == 0) return NULL;
  int32_t backlog = 511;
  if (argc > 1 && napi_get_value_int32(env, argv[1], &backlog) != napi_ok) {
    napi_throw_type_error(env, NULL, "The backlog must be a number");
    return NULL;
  }
  int fd = stream_socket();
  if (fd < 0) return failure(env, -1, errno, "socket");
  if (bind(fd, (struct sockaddr*)&addr, len) < 0) return failure(env, fd, errno, "bind");
  if (listen(fd, backlog) < 0) return failure(env, fd, errno, "listen");
  return descriptor(env, fd);
}

/*
 * streamConnect(address) -> fd, or { errno, syscall }
 *
 * Linux connects an AF_UNIX stream socket at once or fails: with EAGAIN when
 * the listener's backlog is full (the socket is non-blocking, so it does not
 * wait; Node's `net` reports the same EAGAIN). EINPROGRESS does not happen for
 * AF_UNIX on Linux; should a kernel return it, a connection that is not
 * complete at once is reported as EAGAIN rather than handed over half made.
 */
static napi_value js_stream_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  struct sockaddr_un addr;
  socklen_t len = address_arg(env, argv[0], &addr);
  if (len == 0) return NULL;
  int fd = stream_socket();
  if (fd < 0) return failure(env, -1, errno, "socket");
  int r;
  do {
    r = connect(fd, (struct sockaddr*)&addr, len);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return descriptor(env, fd);
  if (errno != EINPROGRESS) return failure(env, fd, errno, "connect");
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int err = 0;
  socklen_t err_len = sizeof(err);
  if (poll(&p, 1, 0) != 1) return failure(env, fd, EAGAIN, "connect");
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0) err = errno;
  return err == 0 ? descriptor(env, fd) : failure(env, fd, err, "connect");
}

napi_value socklab_unix_stream_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"streamListen", NULL, js_stream_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"streamConnect", NULL, js_stream_connect, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) {
    return NULL;
  }
  return exports;
}
