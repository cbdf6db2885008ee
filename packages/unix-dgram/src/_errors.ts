/**
 * One-line errors from the binding's bare negative errno numbers.
 *
 * @module
 */
import {
  AddressInUseError,
  ClosedError,
  errnoName,
  explainErrorCode,
  SocketError,
  TimeoutError,
} from "@socklab/core";

/** What a datagram send or connect failure means, where the generic phrase would mislead. */
const SEND_REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such socket (nothing is bound to this path)",
  ECONNREFUSED: "nobody is bound to it (a stale socket file, or a file that is not a socket)",
  EPERM: "operation not permitted (the receiver is connected to another socket)",
  EPROTOTYPE: "wrong socket type (it is a stream socket; datagrams need a datagram socket)",
  EMSGSIZE: "message too long (larger than the socket's send buffer allows)",
};

/** The same for Linux abstract names, which have no file. */
const ABSTRACT_REASONS: Readonly<Record<string, string>> = {
  ...SEND_REASONS,
  ENOENT: "nothing is bound to this abstract name",
  ECONNREFUSED: "nothing is bound to this abstract name",
};

/** What a failed call was doing. */
export interface ErrnoContext {
  /** The verb: `bind`, `send to`, `connect to`, `receive on`. */
  action: "bind" | "send to" | "connect to" | "receive on" | "create";
  /** The path concerned. */
  address: string;
  /** The system call, for the error's `syscall`. */
  syscall: string;
}

/**
 * Turns the binding's negative errno into a socklab error with one line:
 * `Cannot send to "/tmp/s": no such socket (nothing is bound to this path)`.
 *
 * @param errno A negative (or positive) errno.
 * @param context What was done, and to which path.
 * @returns An {@linkcode AddressInUseError} for EADDRINUSE, else a {@linkcode SocketError}.
 */
export function errnoError(errno: number, context: ErrnoContext): SocketError {
  const code = errnoName(errno);
  const abstract = context.address.startsWith("@");
  const reason =
    (context.action === "bind"
      ? undefined
      : abstract
        ? ABSTRACT_REASONS[code]
        : SEND_REASONS[code]) ?? explainErrorCode(code);
  const message =
    context.action === "create"
      ? `Cannot create a UNIX datagram socket: ${reason}`
      : `Cannot ${context.action} "${context.address}": ${reason}`;
  const details = {
    code,
    errno: -Math.abs(errno),
    syscall: context.syscall,
    address: context.address,
  };
  return code === "EADDRINUSE"
    ? new AddressInUseError(message, details)
    : new SocketError(message, details);
}

/**
 * The error of a send still waiting when the socket closes.
 *
 * @param to The destination.
 * @returns The error.
 */
export function closedError(to: string | undefined): ClosedError {
  return new ClosedError(
    to === undefined
      ? "Cannot send: the socket is closed"
      : `Cannot send to "${to}": the socket is closed`,
  );
}

/**
 * The error of sends that waited too long for room in the receiver's queue.
 *
 * @param to The destination.
 * @param timeoutMs How long the queue stayed full.
 * @returns The error.
 */
export function sendTimeoutError(to: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(
    `Cannot send to "${to}": its receive queue stayed full for ${timeoutMs} ms (the receiver is not reading)`,
    timeoutMs,
  );
}
