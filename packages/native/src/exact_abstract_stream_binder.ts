import { listenAbstractStream } from "./listen_abstract_stream.ts";
import { netPadsAbstractNames } from "./net_pads_abstract_names.ts";

/**
 * Binds an abstract stream name exactly where this Node's `net` would pad it:
 * the binder that `@socklab/core`'s `setAbstractStreamBinder` takes. On Node
 * 22 and later it returns `undefined`, and Node's own `listen({ path:
 * "\0name" })` is used.
 *
 * @param name The abstract name, without the leading NUL or `@`.
 * @param backlog How many connections may wait to be accepted.
 * @returns A listening descriptor for `server.listen({ fd }, backlog)`, or
 *   `undefined` when Node binds the name exactly itself.
 * @example
 * ```ts
 * import { setAbstractStreamBinder } from "@socklab/core";
 * import { exactAbstractStreamBinder } from "@socklab/native";
 * setAbstractStreamBinder(exactAbstractStreamBinder);
 * ```
 */
export function exactAbstractStreamBinder(name: string, backlog: number): number | undefined {
  return netPadsAbstractNames() ? listenAbstractStream(name, backlog) : undefined;
}
