/**
 * Drops are counted and reported, never silent and never one line each: a
 * server that drops replies (a receiver that does not read) prints one summary
 * line per tick while drops happen.
 *
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: ((options?: { type: "major" | "minor" }) => void) | undefined;

/**
 * Runs a full garbage collection. A flood leaves tens of MB of received
 * datagrams that are garbage already, but V8 collects them only when more
 * allocation asks for it, which an idle server never does: its memory would
 * stay up after the flood is over.
 */
function collectGarbage(type: "major" | "minor" = "major"): void {
  droppedSinceCollection = 0;
  if (collect === undefined) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as typeof collect;
  }
  collect!({ type });
}

/** Bytes dropped since the last collection; past this, young garbage is collected at once. */
const DROPPED_BYTES_PER_COLLECTION = 4 * 1024 * 1024;
let droppedSinceCollection = 0;

/**
 * Notes the size of a datagram a server received and dropped. Under a flood
 * every received datagram becomes garbage at once, faster than V8 collects it
 * by itself (it waits for about 64 MB of such memory): a young-generation
 * collection (a scavenge: the datagrams were just received, and are dead, so it
 * is cheap) after every 4 MB dropped keeps a flooded server's memory near its
 * resting size, and its allocator's heap unfragmented.
 *
 * @param bytes The dropped datagram's size.
 * @example
 * ```ts
 * import { noteDropped } from "@socklab/core";
 * noteDropped(datagram.data.byteLength);
 * ```
 */
export function noteDropped(bytes: number): void {
  droppedSinceCollection += bytes;
  if (droppedSinceCollection >= DROPPED_BYTES_PER_COLLECTION) collectGarbage("minor");
}

/** Counters a server keeps of what it could not deliver. */
export interface DropCounts {
  /** Dropped on purpose: a bounded queue was full. */
  dropped: number;
  /** Failed: receiver gone, send timeout, … */
  failed: number;
}

/**
 * Calls `report` once per `tickMs` with how much `read()`'s counters grew
 * since the last report, only in ticks where they grew. The first quiet tick
 * after drops (the flood is over) collects garbage once, so the memory the flood
 * took comes back, and reports zero growth: "replies flow again". The timer
 * does not keep the process alive.
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
  let flooded = false;
  const check = (): void => {
    const now = read();
    const growth = { dropped: now.dropped - last.dropped, failed: now.failed - last.failed };
    if (growth.dropped === 0 && growth.failed === 0) {
      if (flooded) {
        flooded = false;
        collectGarbage();
        // Array buffers are freed by a background sweeper; the second collection waits for it.
        collectGarbage();
        report(growth, { ...last });
      }
      return;
    }
    flooded ||= growth.dropped > 0;
    last = { dropped: now.dropped, failed: now.failed };
    report(growth, { ...last });
  };
  const timer = setInterval(check, tickMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    flooded = false;
    check();
  };
}

/**
 * The summary line for one tick's drops, or for the tick where they stopped.
 *
 * @param growth What grew this tick (zero: drops stopped).
 * @param limit The queue's bound, for the explanation.
 * @param lastError The latest failure, if any.
 * @param totals The totals since start, for the line where drops stopped.
 * @returns One line: `Dropped 4211 replies (a receiver is not reading: at most 64 wait), 2 failed: …`,
 *   or `Replies flow again (4211 dropped since start)`.
 * @example
 * ```ts
 * import { dropLine } from "@socklab/core";
 * dropLine({ dropped: 3, failed: 0 }, 64); // "Dropped 3 replies (a receiver is not reading: at most 64 wait)"
 * ```
 */
export function dropLine(
  growth: DropCounts,
  limit: number,
  lastError?: Error,
  totals?: DropCounts,
): string {
  if (growth.dropped === 0 && growth.failed === 0) {
    return `Replies flow again (${totals?.dropped ?? 0} dropped since start)`;
  }
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
