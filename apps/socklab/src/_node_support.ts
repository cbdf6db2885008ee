/** The running Node's major version. */
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/**
 * The one line a command prints when asked to listen on a UNIX stream abstract
 * name (`--path @name`) where Node cannot bind it exactly: Node 20 pads the name
 * with NULs to 108 bytes, so only Node programs (which pad the same way) reach it.
 *
 * @param command The command's name, for the line's prefix.
 * @param name The abstract name without `@`.
 * @returns The line, or `undefined` where Node binds the name as given (22+).
 * @example
 * ```ts
 * abstractStreamNote("unix-stream-server", "socklab"); // a line on Node 20, else undefined
 * ```
 */
export function abstractStreamNote(command: string, name: string): string | undefined {
  if (NODE_MAJOR >= 22) return undefined;
  return `socklab ${command}: Node ${process.versions.node} pads abstract names to 108 bytes, so only Node programs reach @${name}; Node 22+ binds it exactly`;
}
