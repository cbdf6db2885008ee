/**
 * What the abstract-name stream functions share: the argument check, the
 * address bytes, and Node-like system errors.
 *
 * @module
 */
import { getSystemErrorMap, getSystemErrorName } from "node:util";
import { checkUnixPath, invalidArgument } from "@socklab/core";
import type { StreamFailure } from "./_addon.ts";

/**
 * The `sun_path` bytes of an abstract name: a NUL, then the name, nothing after.
 *
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_PATH` for a name that is not a string or is empty.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a name over 107 bytes.
 */
export function abstractAddress(name: unknown): Buffer {
  if (typeof name !== "string") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_PATH",
      `Cannot use ${name === null ? "null" : typeof name} as an abstract socket name: it must be a string`,
    );
  }
  checkUnixPath(name, true);
  return Buffer.from(`\0${name}`);
}

/** An error as Node's `net` makes them: `connect ECONNREFUSED: connection refused @name`. */
export interface NodeSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address: string;
}

/**
 * Turns a failed native call into the error Node's `net` would have given,
 * with `code`, negative `errno`, `syscall` and `address` (`@name`).
 */
export function systemError(failure: StreamFailure, address: string): NodeSystemError {
  const code = getSystemErrorName(failure.errno);
  const text = getSystemErrorMap().get(failure.errno)?.[1] ?? "unknown error";
  const err = new Error(`${failure.syscall} ${code}: ${text} ${address}`);
  return Object.assign(err, { code, errno: failure.errno, syscall: failure.syscall, address });
}
