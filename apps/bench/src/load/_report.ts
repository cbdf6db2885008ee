/**
 * The load clients' side of the bench protocol: one JSON object per line on
 * stdout. `start` opens the measured window and `end` closes it (the harness
 * samples the server's CPU time at both, so `end` comes before the client hangs
 * up and a server's per-connection children end); `result` carries the
 * figures; `held` asks the harness to sample memory.
 *
 * @module
 */
import type { Socket } from "node:net";

/** What every load client reports at the end of its window. */
export interface LoadResult {
  /** Operations completed and verified inside the window (round trips, requests, datagrams, connections). */
  ops: number;
  /** Length of the window in seconds. */
  seconds: number;
  /** Payload bytes moved inside the window (one direction). */
  bytes: number;
  /** Failed operations: connection errors, timeouts, losses, wrong bytes. */
  errors: number;
  /** CPU time the load client itself used (user+sys), to tell when it was the bottleneck. */
  clientCpuSeconds: number;
  /** Scenario-specific counters (losses, late replies, first error, …). */
  [extra: string]: unknown;
}

/**
 * Writes one protocol line on stdout.
 *
 * @param event `start`, `end`, `held` or `result`.
 * @param fields The event's data.
 */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/**
 * CPU seconds this process has used so far.
 *
 * @returns user+sys in seconds.
 */
export function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Resolves after `seconds` (used for the warm-up and the window, never for synchronisation).
 *
 * @param seconds How long.
 * @returns A promise.
 */
export function after(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** Where a stream client connects: TCP host and port, or a UNIX socket path. */
export type StreamTarget = { host: string; port: number } | { path: string };

/**
 * A short text for an error (`ECONNREFUSED`, or the message).
 *
 * @param err The error.
 * @returns One line.
 */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/**
 * Connects, starting over with a fresh socket when the handshake takes longer
 * than `timeoutMs`. A server with a tiny backlog (the tutorial's `listen(10)`)
 * makes the kernel drop SYNs, and each drop costs a full second before the
 * retransmission; starting over costs a fraction of that. Only the setup
 * phase uses this, never the measured window.
 *
 * @param open Creates a socket and starts connecting.
 * @param timeoutMs How long one attempt may take.
 * @param attempts How many attempts before giving up.
 * @returns The connected socket.
 * @example
 * ```ts
 * import { connect } from "node:net";
 * import { connectRetrying } from "./_report.ts";
 * const socket = await connectRetrying(() => connect(7, "127.0.0.1"), 250, 20);
 * ```
 */
export async function connectRetrying(
  open: () => Socket,
  timeoutMs: number,
  attempts: number,
): Promise<Socket> {
  for (let attempt = 1; ; attempt++) {
    const socket = open();
    const outcome = await new Promise<"connected" | "timeout" | Error>((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve("connected");
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        resolve(err);
      });
    });
    if (outcome === "connected") return socket;
    socket.destroy();
    if (outcome instanceof Error) throw outcome;
    if (attempt >= attempts) throw new Error(`No connection after ${attempts} attempts`);
  }
}
