import { checkUnixPath } from "@socklab/core";

/**
 * Checks an address a UNIX datagram socket binds, connects or sends to, before
 * the addon sees it: a path of at most 107 bytes, or a Linux abstract name
 * (`@name`, or `name` with `abstract`) of at most 107 bytes.
 *
 * @param path The socket path, `@name`, or an abstract name without `@`.
 * @param abstract Whether `path` is a Linux abstract name written without `@`.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for an address over 107 bytes,
 *   {@linkcode TypeError} `ERR_SOCKLAB_INVALID_PATH` for an empty one or a path with a NUL byte.
 * @example
 * ```ts
 * import { checkUnixDgramPath } from "@socklab/unix-dgram";
 * checkUnixDgramPath("/tmp/unixsocket_udp"); // fine
 * checkUnixDgramPath("@socklab"); // fine: an abstract name
 * ```
 */
export function checkUnixDgramPath(path: string, abstract = false): void {
  if (!abstract && path.startsWith("@")) checkUnixPath(path.slice(1), true);
  else checkUnixPath(path, abstract);
}
