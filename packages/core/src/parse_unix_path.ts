import { checkUnixPath } from "./unix_path_limit.ts";

/** A UNIX socket path as the apps take it: a file system path or a Linux abstract name. */
export interface UnixPath {
  /** The path, or the abstract name without `@`. */
  path: string;
  /** Whether it is a Linux abstract name. */
  abstract: boolean;
}

/**
 * Reads a UNIX socket path as written on a command line: `@name` is a Linux
 * abstract name (no file), anything else a file system path taken as it is
 * (write `./@name` for a file whose name starts with `@`).
 *
 * @param text The path as written.
 * @returns The path and whether it is abstract.
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_PATH` for an empty path or name, or a NUL byte in a path.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a path over 107 bytes.
 * @example
 * ```ts
 * import { parseUnixPath } from "@socklab/core";
 * parseUnixPath("/tmp/unixsocket_tcp"); // { path: "/tmp/unixsocket_tcp", abstract: false }
 * parseUnixPath("@socklab"); // { path: "socklab", abstract: true }
 * ```
 */
export function parseUnixPath(text: string): UnixPath {
  const abstract = text.startsWith("@");
  const path = abstract ? text.slice(1) : text;
  checkUnixPath(path, abstract);
  return { path, abstract };
}
