/*
 * socklab's AF_UNIX / SOCK_DGRAM binding (Node-API, C, Linux).
 *
 * Why our own: the npm `unix-dgram` binding makes one event-loop callback, one
 * JS call and one Buffer per received datagram, cuts datagrams at 65,536 bytes
 * without telling, copies paths with strncpy (abstract names collapse into
 * one) and asserts on a double close. This one:
 * - reads up to BATCH datagrams per wake-up with recvmmsg() and calls JS once
 *   with the whole batch: one Buffer holding every payload back to back, the
 *   lengths and flags in an Int32Array the caller handed over at socket(), and
 *   an array of sender addresses (the same JS string reused for a repeated
 *   sender);
 * - flags a datagram longer than the receive slot from MSG_TRUNC, exactly;
 * - takes and reports addresses with their length, so abstract names (leading
 *   NUL) work and paths longer than sun_path fail with ENAMETOOLONG;
 * - returns 0 or -errno from every call, never throws for a system error, and
 *   treats a call on an unknown or closed descriptor as -EBADF;
 * - stops watching at close(): the handle no longer keeps the loop alive.
 *
 * The meta Int32Array holds, per datagram i: [2i] its length in the batch
 * Buffer, [2i+1] flags (bit 0: truncated).
 */
#define _GNU_SOURCE
#include "socklab.h"

#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 65536
#define FLAG_TRUNCATED 1

typedef struct instance instance_t;

typedef struct sock {
  uv_poll_t poll;  /* first: the uv_close callback casts back */
  instance_t* inst;
  int fd;
  int events;      /* what poll watches now */
  int closing;
  napi_ref on_recv;
  napi_ref on_writable;
  napi_ref meta_ref;
  int32_t* meta;   /* at least 2 * BATCH entries */
  napi_async_context async;
  struct sock* next_open;
} sock_t;

struct instance {
  napi_env env;
  uv_loop_t* loop;
  sock_t** by_fd;
  int by_fd_len;
  unsigned char* arena;                  /* BATCH slots of SLOT bytes, shared: one JS thread */
  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  struct sockaddr_un names[BATCH];
};

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return NULL;               \
  } while (0)

static napi_value make_int(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static sock_t* lookup(instance_t* inst, int fd) {
  if (fd < 0 || fd >= inst->by_fd_len) return NULL;
  sock_t* s = inst->by_fd[fd];
  return (s == NULL || s->closing) ? NULL : s;
}

static int remember(instance_t* inst, sock_t* s) {
  if (s->fd >= inst->by_fd_len) {
    int len = inst->by_fd_len == 0 ? 64 : inst->by_fd_len;
    while (len <= s->fd) len *= 2;
    sock_t** grown = realloc(inst->by_fd, sizeof(sock_t*) * (size_t)len);
    if (grown == NULL) return -ENOMEM;
    memset(grown + inst->by_fd_len, 0, sizeof(sock_t*) * (size_t)(len - inst->by_fd_len));
    inst->by_fd = grown;
    inst->by_fd_len = len;
  }
  inst->by_fd[s->fd] = s;
  return 0;
}

/* Reads a JS string into a sockaddr_un: a leading NUL makes an abstract name. */
static int to_address(napi_env env, napi_value value, struct sockaddr_un* addr, socklen_t* len) {
  size_t n = 0;
  char buf[sizeof(addr->sun_path) + 2];
  if (napi_get_value_string_utf8(env, value, buf, sizeof(buf), &n) != napi_ok) return -EINVAL;
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (n == 0) return -EINVAL;
  if (buf[0] == '\0') {
    if (n > sizeof(addr->sun_path)) return -ENAMETOOLONG;
    memcpy(addr->sun_path, buf, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    if (n >= sizeof(addr->sun_path) || memchr(buf, '\0', n) != NULL) {
      return n >= sizeof(addr->sun_path) ? -ENAMETOOLONG : -EINVAL;
    }
    memcpy(addr->sun_path, buf, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return 0;
}

/* The sender's address as a JS string, or null for an unbound sender. */
static napi_value from_address(napi_env env, const struct sockaddr_un* addr, socklen_t len) {
  napi_value out;
  size_t offset = offsetof(struct sockaddr_un, sun_path);
  if (len <= offset || addr->sun_family != AF_UNIX) {
    napi_get_null(env, &out);
    return out;
  }
  size_t n = len - offset;
  if (n > sizeof(addr->sun_path)) n = sizeof(addr->sun_path);
  if (addr->sun_path[0] != '\0') n = strnlen(addr->sun_path, n);
  napi_create_string_utf8(env, addr->sun_path, n, &out);
  return out;
}

static void update_poll(sock_t* s, int events);

static void call_js(sock_t* s, napi_ref fn_ref, size_t argc, napi_value* argv) {
  napi_env env = s->inst->env;
  napi_value fn, recv, result;
  napi_get_reference_value(env, fn_ref, &fn);
  napi_get_global(env, &recv); /* napi_make_callback wants an object */
  napi_status status = napi_make_callback(env, s->async, recv, fn, argc, argv, &result);
  if (status == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
}

static void on_readable(sock_t* s) {
  instance_t* inst = s->inst;
  napi_env env = inst->env;
  for (int i = 0; i < BATCH; i++) {
    inst->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_un);
    inst->msgs[i].msg_hdr.msg_flags = 0;
  }
  int n;
  do {
    n = recvmmsg(s->fd, inst->msgs, BATCH, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (n < 0) {
    int err = errno;
    if (err != EAGAIN && err != EWOULDBLOCK) {
      napi_value argv[1] = {make_int(env, -err)};
      call_js(s, s->on_recv, 1, argv);
    }
    napi_close_handle_scope(env, scope);
    return;
  }
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    size_t len = inst->msgs[i].msg_len;
    if (len > SLOT) len = SLOT;
    total += len;
  }
  napi_value data, senders, prev = NULL;
  void* dest;
  napi_create_buffer(env, total, &dest, &data);
  napi_create_array_with_length(env, (size_t)n, &senders);
  unsigned char* out = dest;
  for (int i = 0; i < n; i++) {
    struct msghdr* h = &inst->msgs[i].msg_hdr;
    size_t len = inst->msgs[i].msg_len;
    if (len > SLOT) len = SLOT;
    memcpy(out, inst->iovs[i].iov_base, len);
    out += len;
    s->meta[2 * i] = (int32_t)len;
    s->meta[2 * i + 1] = (h->msg_flags & MSG_TRUNC) ? FLAG_TRUNCATED : 0;
    napi_value from;
    if (prev != NULL && h->msg_namelen == inst->msgs[i - 1].msg_hdr.msg_namelen &&
        memcmp(h->msg_name, inst->msgs[i - 1].msg_hdr.msg_name, h->msg_namelen) == 0) {
      from = prev;
    } else {
      from = from_address(env, h->msg_name, h->msg_namelen);
    }
    napi_set_element(env, senders, (uint32_t)i, from);
    prev = from;
  }
  napi_value argv[3] = {make_int(env, n), data, senders};
  call_js(s, s->on_recv, 3, argv);
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t* handle, int status, int events) {
  sock_t* s = (sock_t*)handle;
  if (s->closing) return;
  if (status < 0) {
    /* An error on the descriptor: report it through a read, which names it. */
    events = UV_READABLE;
  }
  if (events & UV_WRITABLE) {
    update_poll(s, UV_READABLE);
    napi_env env = s->inst->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    call_js(s, s->on_writable, 0, NULL);
    napi_close_handle_scope(env, scope);
    if (s->closing) return;
  }
  if (events & UV_READABLE) on_readable(s);
}

static void update_poll(sock_t* s, int events) {
  if (s->events == events) return;
  s->events = events;
  uv_poll_start(&s->poll, events, on_poll);
}

static void on_closed(uv_handle_t* handle) { free(handle); }

static void release(sock_t* s, int close_fd) {
  instance_t* inst = s->inst;
  napi_env env = inst->env;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  if (close_fd) close(s->fd);
  if (s->fd < inst->by_fd_len && inst->by_fd[s->fd] == s) inst->by_fd[s->fd] = NULL;
  napi_delete_reference(env, s->on_recv);
  napi_delete_reference(env, s->on_writable);
  napi_delete_reference(env, s->meta_ref);
  napi_async_destroy(env, s->async);
  uv_close((uv_handle_t*)&s->poll, on_closed);
}

/* socket(domain, type, protocol, onRecv, onWritable, meta) -> fd or -errno */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  instance_t* inst;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, (void**)&inst));
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "socket(domain, type, protocol, onRecv, onWritable, meta)");
    return NULL;
  }
  int32_t domain, type, protocol;
  CHECK(napi_get_value_int32(env, argv[0], &domain));
  CHECK(napi_get_value_int32(env, argv[1], &type));
  CHECK(napi_get_value_int32(env, argv[2], &protocol));
  napi_typedarray_type ta_type;
  size_t ta_len;
  void* ta_data;
  if (napi_get_typedarray_info(env, argv[5], &ta_type, &ta_len, &ta_data, NULL, NULL) != napi_ok ||
      ta_type != napi_int32_array || ta_len < 2 * BATCH) {
    napi_throw_type_error(env, NULL, "meta must be an Int32Array of at least 128 entries");
    return NULL;
  }
  if (inst->arena == NULL) {
    inst->arena = malloc((size_t)BATCH * SLOT);
    if (inst->arena == NULL) return make_int(env, -ENOMEM);
    for (int i = 0; i < BATCH; i++) {
      inst->iovs[i].iov_base = inst->arena + (size_t)i * SLOT;
      inst->iovs[i].iov_len = SLOT;
      memset(&inst->msgs[i], 0, sizeof(inst->msgs[i]));
      inst->msgs[i].msg_hdr.msg_iov = &inst->iovs[i];
      inst->msgs[i].msg_hdr.msg_iovlen = 1;
      inst->msgs[i].msg_hdr.msg_name = &inst->names[i];
    }
  }
  int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return make_int(env, -errno);
  sock_t* s = calloc(1, sizeof(sock_t));
  if (s == NULL) {
    close(fd);
    return make_int(env, -ENOMEM);
  }
  s->inst = inst;
  s->fd = fd;
  s->meta = ta_data;
  int err = remember(inst, s);
  if (err == 0) err = uv_poll_init_socket(inst->loop, &s->poll, fd);
  if (err != 0) {
    if (fd < inst->by_fd_len) inst->by_fd[fd] = NULL;
    close(fd);
    free(s);
    return make_int(env, err);
  }
  napi_value name;
  napi_create_string_utf8(env, "SocklabUnixDgram", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[3], 1, &s->on_recv);
  napi_create_reference(env, argv[4], 1, &s->on_writable);
  napi_create_reference(env, argv[5], 1, &s->meta_ref);
  napi_async_init(env, NULL, name, &s->async);
  update_poll(s, UV_READABLE);
  return make_int(env, fd);
}

/*
 * The shared start of every call on an open socket: reads `argc` arguments,
 * the descriptor from the first, and looks it up. NULL: closed or unknown.
 */
static sock_t* socket_args(napi_env env, napi_callback_info info, size_t argc, napi_value* argv,
                           int32_t* fd) {
  instance_t* inst;
  size_t got = argc;
  *fd = -1;
  if (napi_get_cb_info(env, info, &got, argv, NULL, (void**)&inst) != napi_ok) return NULL;
  napi_get_value_int32(env, argv[0], fd);
  return lookup(inst, *fd);
}

static napi_value address_call(napi_env env, napi_callback_info info, int is_connect) {
  napi_value argv[2];
  int32_t fd;
  if (socket_args(env, info, 2, argv, &fd) == NULL) return make_int(env, -EBADF);
  struct sockaddr_un addr;
  socklen_t len;
  int err = to_address(env, argv[1], &addr, &len);
  if (err != 0) return make_int(env, err);
  int r = is_connect ? connect(fd, (struct sockaddr*)&addr, len)
                     : bind(fd, (struct sockaddr*)&addr, len);
  return make_int(env, r < 0 ? -errno : 0);
}

/* bind(fd, path) -> 0 or -errno */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  return address_call(env, info, 0);
}

/* connect(fd, path) -> 0 or -errno */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  return address_call(env, info, 1);
}

static int bytes_of(napi_env env, napi_value value, unsigned char** data, size_t* len) {
  napi_typedarray_type type;
  void* base;
  if (napi_get_typedarray_info(env, value, &type, len, &base, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    return -EINVAL;
  }
  *data = base;
  return 0;
}

/* sendto(fd, data, offset, length, path) -> 0 or -errno (-EAGAIN when the queue is full) */
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd, offset = 0, length = 0;
  if (socket_args(env, info, 5, argv, &fd) == NULL) return make_int(env, -EBADF);
  unsigned char* data;
  size_t size;
  if (bytes_of(env, argv[1], &data, &size) != 0) return make_int(env, -EINVAL);
  napi_get_value_int32(env, argv[2], &offset);
  napi_get_value_int32(env, argv[3], &length);
  if (offset < 0 || length < 0 || (size_t)offset + (size_t)length > size) {
    return make_int(env, -EINVAL);
  }
  struct sockaddr_un addr;
  socklen_t len;
  int err = to_address(env, argv[4], &addr, &len);
  if (err != 0) return make_int(env, err);
  ssize_t r;
  do {
    r = sendto(fd, data + offset, (size_t)length, MSG_DONTWAIT | MSG_NOSIGNAL,
               (struct sockaddr*)&addr, len);
  } while (r < 0 && errno == EINTR);
  return make_int(env, r < 0 ? -errno : 0);
}

/* send(fd, data) -> 0, 1 when congested (the writable callback is armed), or -errno */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  sock_t* s = socket_args(env, info, 2, argv, &fd);
  if (s == NULL) return make_int(env, -EBADF);
  unsigned char* data;
  size_t size;
  if (bytes_of(env, argv[1], &data, &size) != 0) return make_int(env, -EINVAL);
  ssize_t r;
  do {
    r = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  if (r >= 0) return make_int(env, 0);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
    update_poll(s, UV_READABLE | UV_WRITABLE);
    return make_int(env, 1);
  }
  return make_int(env, -errno);
}

/* sndbuf(fd) -> SO_SNDBUF in bytes or -errno */
static napi_value js_sndbuf(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (socket_args(env, info, 1, argv, &fd) == NULL) return make_int(env, -EBADF);
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, &len) < 0) return make_int(env, -errno);
  return make_int(env, value);
}

/* close(fd) -> 0 or -EBADF (already closed or unknown); never asserts */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  sock_t* s = socket_args(env, info, 1, argv, &fd);
  if (s == NULL) return make_int(env, -EBADF);
  release(s, 1);
  return make_int(env, 0);
}

static void cleanup(void* arg) {
  instance_t* inst = arg;
  for (int fd = 0; fd < inst->by_fd_len; fd++) {
    sock_t* s = inst->by_fd[fd];
    if (s != NULL && !s->closing) {
      s->closing = 1;
      uv_poll_stop(&s->poll);
      close(s->fd);
      inst->by_fd[fd] = NULL;
      uv_close((uv_handle_t*)&s->poll, on_closed);
    }
  }
}

static void finalize_instance(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  instance_t* inst = data;
  free(inst->by_fd);
  free(inst->arena);
  free(inst);
}

/* Adds the datagram functions to `exports`; called once per Node environment by addon.c. */
napi_value socklab_unix_dgram_init(napi_env env, napi_value exports) {
  instance_t* inst = calloc(1, sizeof(instance_t));
  if (inst == NULL) return NULL;
  inst->env = env;
  if (napi_get_uv_event_loop(env, &inst->loop) != napi_ok) {
    free(inst);
    return NULL;
  }
  napi_set_instance_data(env, inst, finalize_instance, NULL);
  napi_add_env_cleanup_hook(env, cleanup, inst);
  napi_property_descriptor props[] = {
      {"socket", NULL, js_socket, NULL, NULL, NULL, napi_enumerable, inst},
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_enumerable, inst},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, inst},
      {"sendto", NULL, js_sendto, NULL, NULL, NULL, napi_enumerable, inst},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, inst},
      {"sndbuf", NULL, js_sndbuf, NULL, NULL, NULL, napi_enumerable, inst},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, inst},
      {"AF_UNIX", NULL, NULL, NULL, NULL, make_int(env, AF_UNIX), napi_enumerable, NULL},
      {"SOCK_DGRAM", NULL, NULL, NULL, NULL, make_int(env, SOCK_DGRAM), napi_enumerable, NULL},
      {"BATCH", NULL, NULL, NULL, NULL, make_int(env, BATCH), napi_enumerable, NULL},
      {"SLOT", NULL, NULL, NULL, NULL, make_int(env, SLOT), napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
