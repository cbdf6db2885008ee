/**
 * The nearest of some names to a mistyped one, for "did you mean" hints.
 *
 * @module
 */

/**
 * Edit distance with adjacent swaps counted as one edit (optimal string alignment),
 * so `prot` is one edit from `port`.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Finds the name closest to a mistyped one, when it is close enough to be what was meant:
 * at most 2 edits, and fewer than half the typed name's length.
 *
 * @param typed What was written (`prot`).
 * @param names The names it may have meant.
 * @returns The nearest name, or `undefined` when none is close.
 * @example
 * ```ts
 * import { nearest } from "./_nearest.ts";
 * nearest("prot", ["host", "port"]); // "port"
 * nearest("banana", ["host", "port"]); // undefined
 * ```
 */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of names) {
    const distance = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return bestDistance <= 2 && bestDistance * 2 < typed.length ? best : undefined;
}
