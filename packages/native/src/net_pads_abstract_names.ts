import { randomBytes } from "node:crypto";
import { closeSync } from "node:fs";
import { createServer } from "node:net";
import { loadAddon } from "./_addon.ts";

let answer: boolean | undefined;

/**
 * Whether this Node's `net` pads abstract names: binds and connects `"\0name"`
 * with the name followed by NULs up to all 108 bytes of `sun_path` (Node 20),
 * instead of exactly (Node 22 and later). Where it pads, use
 * {@linkcode listenAbstractStream} and {@linkcode connectAbstractStream} to
 * reach other programs' abstract names.
 *
 * Found out once per process, without waiting: a `net` server binds a fresh
 * name (its bind is synchronous with `exclusive: true`), and the addon
 * connects to the name exactly, then padded; which one answers tells. Where
 * neither does or the addon cannot load, the Node version decides (before 22:
 * pads). Always `false` off Linux, which has no abstract names.
 *
 * @returns `true` when `net` pads abstract names.
 * @example
 * ```ts
 * import { netPadsAbstractNames } from "@socklab/native";
 * netPadsAbstractNames(); // true on Node 20, false on Node 24
 * ```
 */
export function netPadsAbstractNames(): boolean {
  answer ??= probe() ?? Number(process.versions.node.split(".")[0]) < 22;
  return answer;
}

/** `true` or `false` when the probe could tell, `undefined` when not. */
function probe(): boolean | undefined {
  if (process.platform !== "linux") return false;
  let addon: ReturnType<typeof loadAddon>;
  try {
    addon = loadAddon();
  } catch {
    return undefined;
  }
  const name = `\0socklab-probe-${process.pid}-${randomBytes(8).toString("hex")}`;
  const server = createServer();
  server.on("error", () => {}); // a failed bind is reported on the next tick: no answer then
  try {
    server.listen({ path: name, exclusive: true });
    const exact = Buffer.from(name);
    const padded = Buffer.alloc(108);
    exact.copy(padded);
    for (const [address, pads] of [
      [exact, false],
      [padded, true],
    ] as const) {
      const fd = addon.streamConnect(address);
      if (typeof fd === "number") {
        closeSync(fd);
        return pads;
      }
    }
    return undefined;
  } finally {
    server.close();
  }
}
