import type { UnixAddress } from "./address.ts";

/**
 * The string Node's `net` module takes for a UNIX address: the path, or for an
 * abstract name the name behind a NUL byte.
 *
 * @param address A UNIX address.
 * @returns The path to pass to `listen()` / `connect()`.
 * @example
 * ```ts
 * import { unixSocketPath } from "@socklab/core";
 * unixSocketPath({ path: "name", abstract: true }); // "\0name"
 * ```
 */
export function unixSocketPath(address: Pick<UnixAddress, "path" | "abstract">): string {
  return address.abstract ? `\0${address.path}` : address.path;
}
