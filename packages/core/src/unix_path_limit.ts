import { invalidArgument } from "./errors.ts";

/**
 * The most bytes a UNIX socket path may have on Linux: `sun_path` holds 108,
 * one of which is the closing NUL (for abstract names, the leading NUL).
 */
export const UNIX_PATH_MAX = 107;

/**
 * Checks that a UNIX socket path (or abstract name) fits the kernel's limit, so a
 * bind or connect fails before the system call with a clear message.
 *
 * @param path The path, or the abstract name without `@`.
 * @param abstract Whether `path` is a Linux abstract name.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` when it is longer than {@linkcode UNIX_PATH_MAX} bytes,
 *   {@linkcode TypeError} `ERR_SOCKLAB_INVALID_PATH` when it is empty or holds a NUL byte.
 * @example
 * ```ts
 * import { checkUnixPath } from "@socklab/core";
 * checkUnixPath("/tmp/unixsocket_tcp"); // fine
 * ```
 */
export function checkUnixPath(path: string, abstract = false): void {
  if (path.length === 0) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_PATH",
      "Cannot use an empty UNIX socket path",
    );
  }
  if (!abstract && path.includes("\0")) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_PATH",
      `Cannot use UNIX socket path "${path.replaceAll("\0", "\\0")}": it holds a NUL byte`,
    );
  }
  const bytes = Buffer.byteLength(path);
  if (bytes > UNIX_PATH_MAX) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_PATH_TOO_LONG",
      `Cannot use UNIX socket ${abstract ? "name" : "path"} "${path.length > 60 ? `${path.slice(0, 57)}...` : path}": it has ${bytes} bytes, the kernel allows ${UNIX_PATH_MAX}; use a shorter path`,
    );
  }
}
