/**
 * Durations as people write them on a command line: seconds by default, or with
 * a unit (`500ms`, `2s`, `1m`).
 *
 * @module
 */
import { invalidArgument } from "./errors.ts";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Node's timers fire at once for longer delays. */
const MAX_MS = 2 ** 31 - 1;

/**
 * Reads a duration: a number of seconds (`5`, `0.5`) or a number with a unit
 * (`500ms`, `2s`, `1.5m`, `1h`), and gives milliseconds.
 *
 * @param text The duration as written.
 * @param name What it is for, for the message (an option name such as `--idle-timeout`).
 * @returns Whole milliseconds, 0 to 2,147,483,647.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_DURATION` for anything else.
 * @example
 * ```ts
 * import { parseDuration } from "@socklab/core";
 * parseDuration("2"); // 2000
 * parseDuration("500ms"); // 500
 * parseDuration("1m"); // 60000
 * ```
 */
export function parseDuration(text: string, name = "duration"): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/.exec(text.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * UNIT_MS[match[2] ?? "s"]!;
  if (!(ms >= 0 && ms <= MAX_MS)) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_DURATION",
      `Cannot use ${name} "${text}": expected seconds or a duration such as 500ms, 2s or 1m (at most 24 days)`,
    );
  }
  return Math.round(ms);
}
