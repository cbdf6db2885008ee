/**
 * The few statistics the bench reports: median and spread over rounds.
 *
 * @module
 */

/** Median, minimum and maximum of a set of figures. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Half the range as a share of the median (0.05 is ±5 %); 0 for a single value. */
  spread: number;
  /** How many values. */
  count: number;
}

/**
 * The median: the middle value, or the mean of the two middle values.
 *
 * @param values Figures (any order); NaN values are ignored.
 * @returns The median, NaN when there is no value.
 * @example
 * ```ts
 * import { median } from "./statistics.ts";
 * median([3, 1, 2]); // 2
 * median([4, 1, 3, 2]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Median and spread of a set of figures.
 *
 * @param values Figures from repeated rounds; NaN values are ignored.
 * @returns The summary (all NaN and `count` 0 when there is no value).
 * @example
 * ```ts
 * import { summarize } from "./statistics.ts";
 * summarize([90, 100, 110]); // { median: 100, min: 90, max: 110, spread: 0.1, count: 3 }
 * ```
 */
export function summarize(values: readonly number[]): Summary {
  const present = values.filter((v) => !Number.isNaN(v));
  if (present.length === 0) {
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, spread: Number.NaN, count: 0 };
  }
  const mid = median(present);
  const min = Math.min(...present);
  const max = Math.max(...present);
  return {
    median: mid,
    min,
    max,
    spread: mid === 0 ? 0 : (max - min) / 2 / mid,
    count: present.length,
  };
}
