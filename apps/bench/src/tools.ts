/**
 * What the machine offers: programs on the PATH and the open-file limit.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Whether a program is on the PATH and executable.
 *
 * @param name The program (`socat`, `wrk`, `python3`).
 * @returns True when found.
 * @example
 * ```ts
 * import { hasProgram } from "./tools.ts";
 * if (!hasProgram("wrk")) console.log("wrk is not installed");
 * ```
 */
export function hasProgram(name: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * The hard limit on open files, which a process started by the bench raises its soft limit to.
 *
 * @returns The limit, or Infinity when unlimited.
 * @example
 * ```ts
 * import { hardFileLimit } from "./tools.ts";
 * hardFileLimit() >= 1024; // usually
 * ```
 */
export function hardFileLimit(): number {
  const text = execFileSync("/bin/sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim();
  return text === "unlimited" ? Number.POSITIVE_INFINITY : Number(text);
}
