import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** The open-file limit of this process. */
export interface FileLimit {
  soft: number;
  hard: number;
}

/**
 * Reads this process's open-file limit (`RLIMIT_NOFILE`) from `/proc/self/limits`.
 *
 * @returns Soft and hard limit (`Infinity` for unlimited), or `undefined` off Linux.
 * @example
 * ```ts
 * import { readFileLimit } from "@socklab/multiplex";
 * readFileLimit(); // { soft: 20000, hard: 20000 }
 * ```
 */
export function readFileLimit(): FileLimit | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const [, soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/.exec(line ?? "") ?? [];
    if (soft === undefined || hard === undefined) return undefined;
    const read = (v: string): number => (v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v));
    return { soft: read(soft), hard: read(hard) };
  } catch {
    return undefined;
  }
}

/**
 * Raises this process's soft open-file limit to its hard limit, so a server can
 * hold as many connections as the system allows. Node has no `setrlimit`, so
 * this asks `prlimit` (util-linux) to do it for our pid.
 *
 * @returns The limit afterwards, and whether it changed.
 * @example
 * ```ts
 * import { raiseFileLimit } from "@socklab/multiplex";
 * const { limit } = raiseFileLimit();
 * ```
 */
export function raiseFileLimit(): { limit: FileLimit | undefined; raised: boolean } {
  const before = readFileLimit();
  if (before === undefined || before.soft >= before.hard) return { limit: before, raised: false };
  const hard = Number.isFinite(before.hard) ? String(before.hard) : "unlimited";
  spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${hard}:${hard}`], {
    stdio: "ignore",
  });
  const after = readFileLimit();
  return { limit: after, raised: after !== undefined && after.soft > before.soft };
}
