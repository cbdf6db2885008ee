/**
 * The copy engine: bytes both ways between two ends, with backpressure in each
 * direction and a half-close when one direction ends.
 *
 * @module
 */

/**
 * One end of a byte stream: a connection, or stdin and stdout. Any part may be
 * missing: an end without `chunks` sends nothing, one without `write` discards
 * what it is given (still counted), one without `end` cannot be half-closed.
 */
export interface StreamEnd {
  /** How users read this end (`tcp://127.0.0.1:80`, `unix:///tmp/s`, `stdio`). */
  readonly name: string;
  /** What this end sends, chunk by chunk, until its end of stream. */
  readonly chunks?: AsyncIterable<Uint8Array>;
  /** Gives this end a chunk; settles when more may be given (backpressure). */
  write?(chunk: Uint8Array): Promise<void>;
  /** Half-closes: this end reads the end of the stream, and may still send. */
  end?(): Promise<void>;
  /** Closes gracefully once both directions are done. */
  close?(): Promise<void>;
  /** Closes at once; a pending read or write of this end must settle. */
  destroy(reason?: Error): void;
}

/** The two directions between ends `a` and `b`. */
export type CopyDirection = "aToB" | "bToA";

/** Options of {@linkcode copyBothWays}. */
export interface CopyOptions {
  /**
   * Half-close the receiving end when a direction ends (socat's and nc's default),
   * for both directions or each one. `false` leaves the receiving end open:
   * the copy is done when the other direction ends too. Default `true`.
   */
  halfClose?: boolean | Partial<Record<CopyDirection, boolean>>;
  /** Sees each chunk before it is passed on, with the bytes that went the same way before it (dumps, logs). */
  onChunk?: (direction: CopyDirection, chunk: Uint8Array, offset: number) => void;
}

/** Bytes copied in each direction. */
export interface CopyCounts {
  aToB: number;
  bToA: number;
}

/** A running copy, from {@linkcode copyBothWays}. */
export interface Copy {
  /** Resolves with the byte counts when both directions ended and both ends are closed; rejects with the first failure. */
  readonly done: Promise<CopyCounts>;
  /** Resolves when one direction ended (its end of stream passed on), with its byte count. */
  readonly finished: Record<CopyDirection, Promise<number>>;
  /** Bytes copied so far. */
  readonly counts: Readonly<CopyCounts>;
  /** Stops copying at once and closes both ends; `done` then resolves with the counts so far. */
  stop(): void;
}

/**
 * Copies bytes both ways between two ends, as `socat` and `nc` do: what `a`
 * sends goes to `b` and what `b` sends goes to `a`, each chunk as it comes,
 * unchanged. Each direction waits for its receiver before reading more, so
 * a slow reader on either side slows its sender down instead of filling memory
 * (the memory used is what the ends buffer, not what the stream holds). When
 * one direction ends, the receiving end is half-closed and the other
 * direction goes on; when both have ended, both ends are closed. A failure in
 * either direction (a reset, a write that cannot be delivered) destroys both
 * ends and rejects `done`.
 *
 * @param a One end (a client connection, stdin and stdout).
 * @param b The other end (the target).
 * @param options Half-close per direction, a hook for every chunk.
 * @returns The running copy: `done`, per-direction `finished`, live `counts`, `stop()`.
 * @example
 * ```ts
 * import { connectTcp } from "@socklab/tcp-client";
 * import { connectionEnd, copyBothWays, stdioEnd } from "@socklab/relay";
 * const conn = await connectTcp({ host: "localhost", port: 50000 });
 * const copy = copyBothWays(stdioEnd(), connectionEnd(conn, "tcp://localhost:50000"));
 * const { aToB, bToA } = await copy.done; // bytes sent, bytes received
 * ```
 */
export function copyBothWays(a: StreamEnd, b: StreamEnd, options: CopyOptions = {}): Copy {
  const counts: CopyCounts = { aToB: 0, bToA: 0 };
  const halfClose = (direction: CopyDirection): boolean =>
    typeof options.halfClose === "object"
      ? (options.halfClose[direction] ?? true)
      : (options.halfClose ?? true);
  const onChunk = options.onChunk;
  let failure: unknown;
  let stopped = false;

  const fail = (err: unknown): void => {
    if (stopped || failure !== undefined) return;
    failure = err;
    const reason = err instanceof Error ? err : new Error(String(err));
    a.destroy(reason);
    b.destroy(reason);
  };

  const pump = async (from: StreamEnd, to: StreamEnd, direction: CopyDirection) => {
    if (from.chunks === undefined) return 0;
    try {
      for await (const chunk of from.chunks) {
        if (stopped || failure !== undefined) break;
        onChunk?.(direction, chunk, counts[direction]);
        counts[direction] += chunk.length;
        if (to.write !== undefined) await to.write(chunk);
      }
      if (!stopped && failure === undefined && halfClose(direction)) await to.end?.();
    } catch (err) {
      fail(err);
    }
    return counts[direction];
  };

  const aToB = pump(a, b, "aToB");
  const bToA = pump(b, a, "bToA");
  const done = (async () => {
    await Promise.all([aToB, bToA]);
    if (failure === undefined && !stopped) {
      await Promise.all([a.close?.(), b.close?.()]);
    }
    if (failure !== undefined && !stopped) throw failure;
    return { ...counts };
  })();
  return {
    done,
    finished: { aToB, bToA },
    counts,
    stop() {
      if (stopped) return;
      stopped = true;
      a.destroy();
      b.destroy();
    },
  };
}
