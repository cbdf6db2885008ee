import { abstractAddress, systemError } from "./_abstract_name.ts";
import { loadAddon } from "./_addon.ts";

/**
 * Connects a UNIX stream socket to the Linux abstract name `name`, exactly
 * (a NUL and the name's bytes, no padding), so it reaches servers that Python,
 * socat or nc bound, which Node 20's `net.connect("\0name")` cannot. Wrap the
 * descriptor with `new net.Socket({ fd, readable: true, writable: true })`; the
 * socket then owns and closes it.
 *
 * Linux connects a UNIX stream socket at once or not at all, so the call is
 * synchronous: a full backlog fails with `EAGAIN` at once (Node's `net` does
 * the same), never half made.
 *
 * @param name The abstract name, without the leading NUL or `@`; 1 to 107 bytes.
 * @returns The connected descriptor: non-blocking, close-on-exec.
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_PATH` for a name that is not a string or is empty.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a name over 107 bytes.
 * @throws {Error} A system error as Node's `net` gives them (`code` `ECONNREFUSED`
 *   when nobody listens, `EAGAIN` when the backlog is full; `errno`, `syscall`
 *   `connect`, `address` `@name`); a `SocklabError`
 *   `ERR_SOCKLAB_UNSUPPORTED` where the addon cannot load (not Linux).
 * @example
 * ```ts
 * import { Socket } from "node:net";
 * import { connectAbstractStream } from "@socklab/native";
 * // a server: python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("\0socklab-example"); s.listen(); c, _ = s.accept(); c.sendall(b"hi")'
 * const socket = new Socket({ fd: connectAbstractStream("socklab-example"), readable: true, writable: true });
 * socket.on("data", (data) => console.log(data.toString())); // hi
 * ```
 */
export function connectAbstractStream(name: string): number {
  const address = abstractAddress(name);
  const result = loadAddon().streamConnect(address);
  if (typeof result === "number") return result;
  throw systemError(result, `@${name}`);
}
