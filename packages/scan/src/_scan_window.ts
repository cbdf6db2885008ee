import { setMaxListeners } from "node:events";
import { invalidArgument, resolveHost } from "@socklab/core";
import type { ScanOptions, ScanResult } from "./scan_result.ts";

/** Probes one port; settles with the result, rejects only for a local failure. */
export type Probe = (
  port: number,
  address: string,
  family: 4 | 6,
  stop: AbortSignal,
) => Promise<ScanResult>;

/**
 * Runs `probe` over `ports` with at most `concurrency` probes started and not yet
 * yielded, so sockets and buffered results both stay within the bound; yields
 * in the order of `ports`.
 */
export async function* scanWindow(
  host: string,
  ports: Iterable<number>,
  options: ScanOptions,
  probe: Probe,
): AsyncGenerator<ScanResult, void, undefined> {
  const concurrency = options.concurrency ?? 100;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use concurrency "${concurrency}": expected a whole number of at least 1`,
    );
  const list = [...ports];
  for (const port of list) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw invalidArgument(
        "range",
        "ERR_SOCKLAB_INVALID_PORT",
        `Cannot scan port "${port}": ports to scan are 1 to 65535`,
      );
  }
  options.signal?.throwIfAborted();
  const resolved = await resolveHost(
    host,
    options.family === undefined ? {} : { family: options.family },
  );
  const { address, family } = resolved[0]!;
  const stop = new AbortController();
  setMaxListeners(concurrency + 1, stop.signal); // one listener per probe in flight
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const window: Promise<ScanResult>[] = [];
  let next = 0;
  try {
    while (next < list.length || window.length > 0) {
      while (window.length < concurrency && next < list.length) {
        const running = probe(list[next++]!, address, family, stop.signal);
        running.catch(() => {}); // awaited in turn below; not unhandled meanwhile
        window.push(running);
      }
      const result = await window.shift()!;
      stop.signal.throwIfAborted();
      yield result;
    }
  } finally {
    // The consumer stopped early, a probe failed or the signal fired: close every socket.
    stop.abort();
    options.signal?.removeEventListener("abort", onAbort);
    await Promise.allSettled(window);
  }
}

/** Milliseconds since `start` (from `performance.now()`), to 0.1 ms. */
export function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** The per-port timeout of `options`, checked: 1 ms to 24 days, 1000 by default. */
export function timeoutOf(options: ScanOptions): number {
  const ms = options.timeoutMs ?? 1000;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 2 ** 31 - 1)
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use timeout "${ms}": expected whole milliseconds from 1 to 2147483647`,
    );
  return ms;
}

/** `127.0.0.1:80`, `[::1]:80`, for messages. */
export function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
