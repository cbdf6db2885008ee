/**
 * Load client: HTTP requests through `wrk` (where installed), one thread, with
 * keep-alive or `Connection: close`. wrk does not check bodies; it counts
 * non-2xx answers and socket errors, which are reported as errors. A
 * response that ends with the connection counts as a read error in wrk and as
 * a request too, so read errors are not counted as failures with `close`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { emit, type LoadResult } from "./_report.ts";

/** Settings of {@linkcode httpWrk}. */
export interface HttpWrkConfig {
  url: string;
  connections: number;
  /** Send `Connection: close` on every request. */
  close: boolean;
  warmup: number;
  duration: number;
}

/** The figures wrk prints at the end of a run. */
export interface WrkSummary {
  requests: number;
  seconds: number;
  bytes: number;
  non2xx: number;
  errors: { connect: number; read: number; write: number; timeout: number };
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/**
 * Reads wrk's text summary.
 *
 * @param text wrk's stdout.
 * @returns Its counts.
 * @example
 * ```ts
 * import { parseWrk } from "./http_wrk.ts";
 * parseWrk("  11937 requests in 2.00s, 1.59MB read\n").requests; // 11937
 * ```
 */
export function parseWrk(text: string): WrkSummary {
  const total = /(\d+) requests in ([\d.]+)(m?s), ([\d.]+)([KMG]?B) read/.exec(text);
  if (total === null)
    throw new Error(`Cannot read wrk's output: ${JSON.stringify(text.slice(0, 200))}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    seconds: Number(total[2]) / (total[3] === "ms" ? 1000 : 1),
    bytes: Number(total[4]) * (UNITS[total[5]!] ?? 1),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
  };
}

function wrk(config: HttpWrkConfig, seconds: number): Promise<WrkSummary> {
  const args = ["-t1", `-c${config.connections}`, `-d${Math.max(1, Math.round(seconds))}s`];
  if (config.close) args.push("-H", "Connection: close");
  args.push(config.url);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) reject(new Error(`wrk exited with ${code}: ${out.trim()}`));
      else {
        try {
          resolve(parseWrk(out));
        } catch (err) {
          reject(err);
        }
      }
    });
  });
}

/**
 * Runs wrk (a warm-up run, then the measured run) and reports `start` and the result.
 *
 * @param config URL, connections, close or keep-alive, warm-up and window.
 * @returns Requests wrk completed; non-2xx and socket errors as errors.
 * @example
 * ```ts
 * import { httpWrk } from "./http_wrk.ts";
 * const result = await httpWrk({ url: "http://127.0.0.1:8080/", connections: 50, close: false, warmup: 1, duration: 5 });
 * ```
 */
export async function httpWrk(config: HttpWrkConfig): Promise<LoadResult> {
  if (config.warmup > 0) await wrk(config, config.warmup);
  emit("start");
  const summary = await wrk(config, config.duration);
  const { connect, read, write, timeout } = summary.errors;
  return {
    ops: summary.requests - summary.non2xx,
    seconds: summary.seconds,
    bytes: summary.bytes,
    errors: summary.non2xx + connect + write + timeout + (config.close ? 0 : read),
    non2xx: summary.non2xx,
    socketErrors: summary.errors,
    // wrk's own CPU time is not this process's; unknown here.
    clientCpuSeconds: Number.NaN,
  };
}
