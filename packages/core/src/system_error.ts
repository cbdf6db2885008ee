import { constants } from "node:os";
import { AddressInUseError, SocketError, SocklabError, TimeoutError } from "./errors.ts";

/** What a system error code means, in the words socklab prints. */
const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this machine",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ECONNREFUSED: "connection refused (nobody is listening)",
  ECONNRESET: "connection reset by peer",
  ECONNABORTED: "connection aborted",
  EPIPE: "broken pipe (the peer closed the connection)",
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory",
  ENAMETOOLONG: "path too long",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  EHOSTDOWN: "host is down",
  ENETUNREACH: "network unreachable",
  ENETDOWN: "network is down",
  EMSGSIZE: "message too long",
  EAGAIN: "resource temporarily unavailable (the receiver's queue is full)",
  EWOULDBLOCK: "resource temporarily unavailable (the receiver's queue is full)",
  ENOBUFS: "no buffer space available",
  EMFILE: "too many open files (raise the open-file limit)",
  ENFILE: "too many open files in the system",
  ENOTSOCK: "not a socket",
  EPROTOTYPE: "wrong socket type (stream and datagram sockets cannot talk to each other)",
  EINVAL: "invalid argument",
  EAFNOSUPPORT: "address family not supported (is IPv6 enabled?)",
  ENOTFOUND: "name does not resolve",
  EAI_AGAIN: "name resolution failed temporarily",
  EAI_FAIL: "name resolution failed",
  EAI_NONAME: "name does not resolve",
  EAI_NODATA: "name has no address",
  EDESTADDRREQ: "no destination address",
  ENOTCONN: "socket is not connected",
  EISCONN: "socket is already connected",
  ERR_SOCKET_DGRAM_NOT_RUNNING: "socket is closed",
  ERR_SOCKET_CLOSED: "socket is closed",
  ERR_STREAM_DESTROYED: "connection is closed",
  ERR_STREAM_WRITE_AFTER_END: "connection was half-closed by us",
};

/** The error code names, by positive errno number, from the running system. */
const CODE_BY_ERRNO: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/**
 * The name of a system error number: `98`, `-98` → `"EADDRINUSE"`. Some native
 * bindings report errors as bare negative numbers; this turns them into names.
 *
 * @param errno A positive or negative errno.
 * @returns The code name, or `"E<number>"` when the system does not know it.
 * @example
 * ```ts
 * import { errnoName } from "@socklab/core";
 * errnoName(-111); // "ECONNREFUSED" on Linux
 * ```
 */
export function errnoName(errno: number): string {
  return CODE_BY_ERRNO.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/**
 * A short phrase for a system error code, such as `"address already in use"`.
 *
 * @param code A Node error code (`EADDRINUSE`) or a negative errno number.
 * @returns The phrase; unknown codes are returned as they are.
 * @example
 * ```ts
 * import { explainErrorCode } from "@socklab/core";
 * explainErrorCode("ECONNREFUSED"); // "connection refused (nobody is listening)"
 * ```
 */
export function explainErrorCode(code: string | number): string {
  const name = typeof code === "number" ? errnoName(code) : code;
  return REASONS[name] ?? name;
}

/** What a failed operation was doing, for {@linkcode toSocketError}. */
export interface SocketErrorContext {
  /** The verb for the message: `bind`, `connect to`, `send to`, `listen on`, `receive on`, … */
  action: string;
  /** The address the operation was about, as users read it (`127.0.0.1:50000`, `/tmp/s`). */
  address: string;
  /** The port, for IP sockets. */
  port?: number;
}

/**
 * Turns a system error (or a bare negative errno) into a {@linkcode SocketError}
 * with one line that names the address:
 * `Cannot bind "127.0.0.1:50000": address already in use`.
 * socklab errors pass through unchanged.
 *
 * @param err What the system or Node threw.
 * @param context What was being done, and to which address.
 * @returns A socklab error; `EADDRINUSE` gives an {@linkcode AddressInUseError},
 *   `ETIMEDOUT` a {@linkcode TimeoutError}.
 * @example
 * ```ts
 * import { toSocketError } from "@socklab/core";
 * const err = Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE", syscall: "listen" });
 * toSocketError(err, { action: "bind", address: "127.0.0.1:50000" }).message;
 * // 'Cannot bind "127.0.0.1:50000": address already in use'
 * ```
 */
export function toSocketError(err: unknown, context: SocketErrorContext): SocklabError {
  if (err instanceof SocklabError) return err;
  let code: string;
  let errno: number | undefined;
  let syscall: string | undefined;
  if (typeof err === "number") {
    code = errnoName(err);
    errno = -Math.abs(err);
  } else {
    const e = (err ?? {}) as {
      code?: unknown;
      errno?: unknown;
      syscall?: unknown;
      message?: unknown;
    };
    code =
      typeof e.code === "string"
        ? e.code
        : typeof e.errno === "number"
          ? errnoName(e.errno)
          : "EUNKNOWN";
    errno = typeof e.errno === "number" ? e.errno : undefined;
    syscall = typeof e.syscall === "string" ? e.syscall : undefined;
    if (code === "EUNKNOWN" && typeof e.message === "string") {
      return new SocketError(`Cannot ${context.action} "${context.address}": ${e.message}`, {
        code,
        cause: err,
        address: context.address,
        ...(context.port === undefined ? {} : { port: context.port }),
      });
    }
  }
  const message = `Cannot ${context.action} "${context.address}": ${explainErrorCode(code)}`;
  const details = {
    code,
    cause: err,
    address: context.address,
    ...(errno === undefined ? {} : { errno }),
    ...(syscall === undefined ? {} : { syscall }),
    ...(context.port === undefined ? {} : { port: context.port }),
  };
  if (code === "EADDRINUSE") return new AddressInUseError(message, details);
  if (code === "ETIMEDOUT") return new TimeoutError(message, 0, { cause: err });
  return new SocketError(message, details);
}
