import { checkUnixPath, SocklabError } from "@socklab/core";

/**
 * Checks a path a UNIX datagram socket binds or sends to, before the addon
 * sees it: paths longer than the kernel's 107 bytes, and Linux abstract names
 * (which this package does not support yet), are refused with one line.
 *
 * @param path The socket path, or an abstract name without `@`.
 * @param abstract Whether `path` is a Linux abstract name.
 * @throws {SocklabError} `ERR_SOCKLAB_UNSUPPORTED` for an abstract name.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a path over 107 bytes,
 *   {@linkcode TypeError} `ERR_SOCKLAB_INVALID_PATH` for an empty path or one with a NUL byte.
 * @example
 * ```ts
 * import { checkUnixDgramPath } from "@socklab/unix-dgram";
 * checkUnixDgramPath("/tmp/unixsocket_udp"); // fine
 * ```
 */
export function checkUnixDgramPath(path: string, abstract = false): void {
  if (abstract) {
    throw new SocklabError(
      `Cannot use abstract name "@${path}": this package does not support Linux abstract sockets yet; use a socket path`,
      { code: "ERR_SOCKLAB_UNSUPPORTED" },
    );
  }
  checkUnixPath(path, false);
}
