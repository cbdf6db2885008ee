/**
 * Happy Eyeballs (RFC 8305): race connection attempts to a host's addresses
 * the way browsers do, so a dead address costs a quarter second, not a timeout.
 *
 * @module
 */
import type { ResolvedAddress } from "@socklab/core";

/** The delay before the next address is tried while the previous attempt still waits (RFC 8305: 250 ms). */
export const ATTEMPT_DELAY_MS = 250;

/** One connection attempt in flight. */
export interface Attempt<T> {
  /** Settles when the attempt connects or fails. */
  promise: Promise<T>;
  /** Stops the attempt, or closes what it connected; called on every attempt that does not win. */
  cancel(): void;
}

/** Starts an attempt to one address. */
export type Dial<T> = (target: ResolvedAddress) => Attempt<T>;

/** An address that could not be connected to, and why. */
export interface AttemptFailure {
  target: ResolvedAddress;
  error: unknown;
}

/** How {@linkcode raceAttempts} ended. */
export type RaceResult<T> =
  | { ok: true; value: T; target: ResolvedAddress; failures: AttemptFailure[] }
  | {
      ok: false;
      /** The signal stopped the race (a timeout or the caller); else every attempt failed. */
      aborted: boolean;
      failures: AttemptFailure[];
      /** The addresses an attempt was started for, in order. */
      started: ResolvedAddress[];
    };

/**
 * Puts addresses in the order RFC 8305 §4 tries them: the family of the first
 * address first, then alternating families, each family in its own order.
 *
 * @param addresses Resolved addresses, preferred first.
 * @returns The same addresses, interleaved by family.
 */
export function interleaveFamilies(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const first = addresses[0];
  if (first === undefined) return [];
  const primary = addresses.filter((a) => a.family === first.family);
  const secondary = addresses.filter((a) => a.family !== first.family);
  const out: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(primary.length, secondary.length); i++) {
    if (i < primary.length) out.push(primary[i]!);
    if (i < secondary.length) out.push(secondary[i]!);
  }
  return out;
}

/**
 * Tries the addresses in order: starts with the first, starts the next after
 * `delayMs` or as soon as an attempt fails, and resolves with the first
 * attempt that connects. Every other attempt is cancelled. Never rejects.
 *
 * @param targets The addresses, in the order to try them.
 * @param dial Starts one attempt.
 * @param options `delayMs` between starts; `signal` stops the race.
 * @returns The winner, or every failure.
 */
export function raceAttempts<T>(
  targets: readonly ResolvedAddress[],
  dial: Dial<T>,
  options: { delayMs: number; signal?: AbortSignal | undefined },
): Promise<RaceResult<T>> {
  const { delayMs, signal } = options;
  return new Promise((resolve) => {
    const pending = new Set<Attempt<T>>();
    const failures: AttemptFailure[] = [];
    let next = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (result: RaceResult<T>): void => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      for (const attempt of pending) attempt.cancel();
      pending.clear();
      resolve(result);
    };
    const fail = (aborted: boolean): void =>
      finish({ ok: false, aborted, failures, started: targets.slice(0, next) });

    const startNext = (): void => {
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      if (done) return;
      if (next >= targets.length) {
        if (pending.size === 0) fail(false);
        return;
      }
      const target = targets[next++]!;
      let attempt: Attempt<T>;
      try {
        attempt = dial(target);
      } catch (error) {
        failures.push({ target, error });
        startNext();
        return;
      }
      pending.add(attempt);
      attempt.promise.then(
        (value) => {
          pending.delete(attempt);
          if (done) attempt.cancel();
          else finish({ ok: true, value, target, failures });
        },
        (error: unknown) => {
          pending.delete(attempt);
          if (done) return;
          failures.push({ target, error });
          startNext();
        },
      );
      if (next < targets.length) timer = setTimeout(startNext, delayMs);
    };

    const onAbort = (): void => {
      if (!done) fail(true);
    };
    if (signal?.aborted) {
      fail(true);
      return;
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    startNext();
  });
}
