/**
 * Drops are counted and reported, never silent and never one line each: a
 * server that drops replies (a receiver that does not read) prints one summary
 * line per tick while drops happen.
 *
 * @module
 */

/** Counters a server keeps of what it could not deliver. */
export interface DropCounts {
  /** Dropped on purpose: a bounded queue was full. */
  dropped: number;
  /** Failed: receiver gone, send timeout, … */
  failed: number;
}

/**
 * Calls `report` once per `tickMs` with how much `read()`'s counters grew
 * since the last report, only in ticks where they grew. The timer does not
 * keep the process alive.
 *
 * @param read Reads the counters (totals since start).
 * @param report Gets the growth since the last report and the totals.
 * @param tickMs How often to look (default 1000).
 * @returns Stops the reports, after one last report of any growth not reported yet.
 * @example
 * ```ts
 * import { reportDrops } from "@socklab/core";
 * const stop = reportDrops(() => socket.replyStats, (d) => console.error(`dropped ${d.dropped} replies`));
 * stop();
 * ```
 */
export function reportDrops(
  read: () => DropCounts,
  report: (growth: DropCounts, totals: DropCounts) => void,
  tickMs = 1000,
): () => void {
  let last = { ...read() };
  const check = (): void => {
    const now = read();
    const growth = { dropped: now.dropped - last.dropped, failed: now.failed - last.failed };
    if (growth.dropped === 0 && growth.failed === 0) return;
    last = { dropped: now.dropped, failed: now.failed };
    report(growth, { ...last });
  };
  const timer = setInterval(check, tickMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    check();
  };
}

/**
 * The summary line for one tick's drops.
 *
 * @param growth What grew this tick.
 * @param limit The queue's bound, for the explanation.
 * @param lastError The latest failure, if any.
 * @returns One line: `Dropped 4211 replies (receivers not reading: at most 64 wait), 2 failed: …`.
 * @example
 * ```ts
 * import { dropLine } from "@socklab/core";
 * dropLine({ dropped: 3, failed: 0 }, 64); // "Dropped 3 replies (a receiver is not reading: at most 64 wait)"
 * ```
 */
export function dropLine(growth: DropCounts, limit: number, lastError?: Error): string {
  const parts: string[] = [];
  if (growth.dropped > 0) {
    parts.push(
      `Dropped ${growth.dropped} ${growth.dropped === 1 ? "reply" : "replies"} (a receiver is not reading: at most ${limit} wait)`,
    );
  }
  if (growth.failed > 0) {
    const why = lastError === undefined ? "" : `: ${lastError.message}`;
    const noun = parts.length > 0 ? "" : growth.failed === 1 ? " reply" : " replies";
    parts.push(`${growth.failed}${noun} failed${why}`);
  }
  return parts.join(", ");
}
