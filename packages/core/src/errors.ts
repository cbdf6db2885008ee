/**
 * The errors socklab callers are meant to catch. Each has a stable `code`;
 * bad arguments throw the built-in `TypeError`/`RangeError` with a `code` instead
 * (see {@linkcode invalidArgument}).
 *
 * @module
 */

/** Options every socklab error accepts. */
export interface SocklabErrorOptions {
  /** Stable machine-readable code, such as `ERR_SOCKLAB_STALE_SOCKET` or `EADDRINUSE`. */
  code?: string;
  /** The error this one explains. */
  cause?: unknown;
}

/**
 * Base class of every error socklab throws on purpose. Its message is one line
 * meant for users: the apps print it as it is, without a stack.
 *
 * @example
 * ```ts
 * import { SocklabError } from "@socklab/core";
 * const err = new SocklabError("Cannot do it", { code: "ERR_SOCKLAB_X" });
 * err.code; // "ERR_SOCKLAB_X"
 * ```
 */
export class SocklabError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;

  /**
   * @param message One line, capital first, values quoted, no final period.
   * @param options Code and cause.
   */
  constructor(message: string, options: SocklabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SocklabError";
    this.code = options.code ?? "ERR_SOCKLAB";
  }
}

/** An address that cannot be parsed or resolved (`ERR_SOCKLAB_INVALID_ADDRESS`, `ERR_SOCKLAB_UNRESOLVABLE`). */
export class AddressError extends SocklabError {
  constructor(message: string, options: SocklabErrorOptions = {}) {
    super(message, { code: "ERR_SOCKLAB_INVALID_ADDRESS", ...options });
    this.name = "AddressError";
  }
}

/** Details of a system error kept by {@linkcode SocketError}. */
export interface SocketErrorDetails extends SocklabErrorOptions {
  /** The system call that failed: `bind`, `connect`, `send`, … */
  syscall?: string;
  /** Negative errno as Node reports it. */
  errno?: number;
  /** The address the operation was about, as the user wrote or would read it. */
  address?: string;
  /** The port, for IP sockets. */
  port?: number;
}

/**
 * A failed socket operation. Keeps Node's `code` (`EADDRINUSE`, `ECONNREFUSED`, …),
 * `errno`, `syscall`, `address` and `port`; the message names the address.
 */
export class SocketError extends SocklabError {
  readonly syscall: string | undefined;
  readonly errno: number | undefined;
  readonly address: string | undefined;
  readonly port: number | undefined;

  constructor(message: string, details: SocketErrorDetails = {}) {
    super(message, details);
    this.name = "SocketError";
    this.syscall = details.syscall;
    this.errno = details.errno;
    this.address = details.address;
    this.port = details.port;
  }
}

/** The address is taken: a bound port, or a UNIX socket a live server still accepts on. */
export class AddressInUseError extends SocketError {
  constructor(message: string, details: SocketErrorDetails = {}) {
    super(message, { code: "EADDRINUSE", ...details });
    this.name = "AddressInUseError";
  }
}

/** A UNIX socket path names something that is not a socket; socklab never deletes it. */
export class NotASocketError extends SocklabError {
  readonly path: string;
  constructor(path: string, kind: string) {
    super(
      `Cannot use "${path}" as a socket: it is ${kind}, not a socket; remove it yourself if it is not needed`,
      {
        code: "ERR_SOCKLAB_NOT_A_SOCKET",
      },
    );
    this.name = "NotASocketError";
    this.path = path;
  }
}

/** A datagram larger than the transport can carry, refused before it is sent. */
export class DatagramTooLargeError extends SocklabError {
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, transport: string) {
    super(`Cannot send ${size} bytes in one ${transport} datagram: the limit is ${limit} bytes`, {
      code: "ERR_SOCKLAB_DATAGRAM_TOO_LARGE",
    });
    this.name = "DatagramTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}

/** An operation that did not finish in time. */
export class TimeoutError extends SocklabError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options: SocklabErrorOptions = {}) {
    super(message, { code: "ETIMEDOUT", ...options });
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/** More bytes than a limit allows before a delimiter: a line, a request head. */
export class LimitExceededError extends SocklabError {
  readonly limit: number;
  constructor(message: string, limit: number) {
    super(message, { code: "ERR_SOCKLAB_LIMIT_EXCEEDED" });
    this.name = "LimitExceededError";
    this.limit = limit;
  }
}

/** The peer closed the connection before what was asked for arrived. */
export class ClosedError extends SocklabError {
  constructor(message: string, options: SocklabErrorOptions = {}) {
    super(message, { code: "ERR_SOCKLAB_CLOSED", ...options });
    this.name = "ClosedError";
  }
}

/**
 * Builds the `TypeError` or `RangeError` socklab throws for a bad argument.
 *
 * @param kind `"type"` for a wrong kind of value, `"range"` for a value out of range.
 * @param code Stable code, such as `ERR_SOCKLAB_INVALID_PORT`.
 * @param message One line for users.
 * @returns The error, to be thrown by the caller.
 * @example
 * ```ts
 * import { invalidArgument } from "@socklab/core";
 * const err = invalidArgument("range", "ERR_SOCKLAB_INVALID_PORT", 'Cannot use port "70000": ports are 0 to 65535');
 * err instanceof RangeError; // true
 * ```
 */
export function invalidArgument(
  kind: "type" | "range",
  code: string,
  message: string,
): (TypeError | RangeError) & { code: string } {
  const err = kind === "range" ? new RangeError(message) : new TypeError(message);
  return Object.assign(err, { code });
}

/**
 * Whether an error is one whose message is meant for users as it is (a socklab
 * error, or an argument error with an `ERR_SOCKLAB_` code), rather than a bug.
 *
 * @param err Anything thrown.
 * @returns `true` when printing `err.message` alone is enough.
 * @example
 * ```ts
 * import { isUserFacingError, SocklabError } from "@socklab/core";
 * isUserFacingError(new SocklabError("Cannot do it")); // true
 * isUserFacingError(new Error("bug")); // false
 * ```
 */
export function isUserFacingError(err: unknown): err is Error & { code: string } {
  if (err instanceof SocklabError) return true;
  if (err instanceof TypeError || err instanceof RangeError) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && code.startsWith("ERR_SOCKLAB_");
  }
  return false;
}
