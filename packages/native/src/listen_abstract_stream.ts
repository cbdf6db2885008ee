import { invalidArgument } from "@socklab/core";
import { abstractAddress, systemError } from "./_abstract_name.ts";
import { loadAddon } from "./_addon.ts";

/**
 * Creates a listening UNIX stream socket bound to the Linux abstract name
 * `name`, exactly: the address is a NUL and the name's bytes, no padding, so
 * Python (`s.bind("\0name")`), socat (`ABSTRACT-CONNECT:name`) and
 * `nc -U @name` reach it, which they cannot on Node 20, whose `net` pads the
 * name with NULs to 108 bytes. Hand the descriptor to Node with
 * `server.listen({ fd })`; the server then owns and closes it.
 *
 * @param name The abstract name, without the leading NUL or `@`; 1 to 107 bytes.
 * @param backlog How many connections may wait to be accepted (default 511, as in Node).
 * @returns The descriptor: listening, non-blocking, close-on-exec.
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_PATH` for a name that is not a string or is empty.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a name over 107 bytes,
 *   `ERR_SOCKLAB_INVALID_BACKLOG` for a backlog that is not an integer from 0 to 2147483647.
 * @throws {Error} A system error as Node's `net` gives them (`code` `EADDRINUSE`,
 *   `errno`, `syscall` `bind`, `address` `@name`); a `SocklabError`
 *   `ERR_SOCKLAB_UNSUPPORTED` where the addon cannot load (not Linux).
 * @example
 * ```ts
 * import { createServer } from "node:net";
 * import { listenAbstractStream } from "@socklab/native";
 * const server = createServer((socket) => socket.end("hello\n"));
 * server.listen({ fd: listenAbstractStream("socklab-example") });
 * // python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("\0socklab-example"); print(s.recv(9))'
 * server.close();
 * ```
 */
export function listenAbstractStream(name: string, backlog = 511): number {
  const address = abstractAddress(name);
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 2 ** 31 - 1) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_BACKLOG",
      `Cannot use backlog "${String(backlog)}": it must be an integer from 0 to 2147483647`,
    );
  }
  const result = loadAddon().streamListen(address, backlog);
  if (typeof result === "number") return result;
  throw systemError(result, `@${name}`);
}
