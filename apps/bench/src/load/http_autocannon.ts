/**
 * Load client: HTTP requests with keep-alive through autocannon (the tool made
 * for it), a warm-up run first, every body compared with the page expected.
 *
 * @module
 */
import autocannon from "autocannon";
import { cpuSeconds, emit, type LoadResult } from "./_report.ts";

/** Settings of {@linkcode httpAutocannon}. */
export interface HttpAutocannonConfig {
  url: string;
  connections: number;
  /** The body every response must have. */
  expectBody: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  warmup: number;
  duration: number;
}

function runOnce(
  options: autocannon.Options,
  onStart: () => void = () => {},
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err, result) => (err ? reject(err) : resolve(result)));
    instance.on("start", onStart);
  });
}

/**
 * Runs autocannon against a URL and reports `start` and the result.
 *
 * @param config URL, connections, expected body, warm-up and window.
 * @returns 2xx responses with the expected body inside the window.
 * @example
 * ```ts
 * import { httpAutocannon } from "./http_autocannon.ts";
 * const result = await httpAutocannon({ url: "http://127.0.0.1:8080/", connections: 50, expectBody: "hi", warmup: 1, duration: 5 });
 * ```
 */
export async function httpAutocannon(config: HttpAutocannonConfig): Promise<LoadResult> {
  const base: autocannon.Options = {
    url: config.url,
    connections: config.connections,
    pipelining: 1,
    // autocannon checks for the end of its run once per sample: sample often so short windows stay short.
    sampleInt: 100,
    expectBody: config.expectBody,
    headers: config.headers ?? {},
    duration: config.warmup,
  };
  if (config.warmup > 0) await runOnce(base);
  let cpu0 = 0;
  const result = await runOnce({ ...base, duration: config.duration }, () => {
    cpu0 = cpuSeconds();
    emit("start");
  });
  const ok = result["2xx"] - result.mismatches;
  return {
    ops: ok,
    seconds: result.duration,
    bytes: result.throughput.total,
    errors: result.errors + result.timeouts + result.non2xx + result.mismatches,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    timeouts: result.timeouts,
    clientCpuSeconds: cpuSeconds() - cpu0,
  };
}
