import { Socket } from "node:net";
import { toSocketError } from "@socklab/core";
import { elapsed, hostPort, scanWindow, timeoutOf } from "./_scan_window.ts";
import type { ScanOptions, ScanResult } from "./scan_result.ts";

/** Answers that say nothing is reachable there: the port counts as filtered. */
const FILTERED = new Set([
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ETIMEDOUT",
  "EACCES",
  "EPERM",
]);

/**
 * Scans TCP ports by connecting, as `nc -z` does: a connection is `open` (and
 * closed at once), a refusal `closed`, no answer within the timeout or an
 * unreachable host `filtered`. At most `concurrency` sockets are open at any time.
 *
 * @param host A host name or IP literal (the first address it resolves to is scanned).
 * @param ports The ports, 1 to 65535 (see {@linkcode parsePortList}).
 * @param options Concurrency, per-port timeout, address family, stop signal.
 * @returns The results, one per port, in the order of `ports`.
 * @throws {AddressError} when the host does not resolve; {@linkcode SocketError} for a
 *   local failure such as running out of descriptors (`EMFILE`); the signal's reason when aborted.
 * @example
 * ```ts
 * import { scanTcp } from "@socklab/scan";
 * for await (const r of scanTcp("127.0.0.1", [22, 80], { timeoutMs: 500 })) {
 *   console.log(r.port, r.state); // 22 open, 80 closed
 * }
 * ```
 */
export function scanTcp(
  host: string,
  ports: Iterable<number>,
  options: ScanOptions = {},
): AsyncGenerator<ScanResult, void, undefined> {
  const timeoutMs = timeoutOf(options);
  return scanWindow(host, ports, options, (port, address, family, stop) => {
    return new Promise<ScanResult>((resolve, reject) => {
      const start = performance.now();
      const socket = new Socket();
      options.onSocket?.(socket);
      const finish = (state: ScanResult["state"], error?: string): void => {
        clearTimeout(timer);
        stop.removeEventListener("abort", onStop);
        const result = { port, address, state, ms: elapsed(start), ...(error ? { error } : {}) };
        // Settle once the descriptor is closed, so `concurrency` bounds descriptors, not just probes.
        socket.once("close", () => resolve(result));
        socket.destroy();
      };
      const onStop = (): void => finish("filtered", "ABORTED");
      const timer = setTimeout(() => finish("filtered", "ETIMEDOUT"), timeoutMs);
      stop.addEventListener("abort", onStop, { once: true });
      socket.once("connect", () => finish("open"));
      socket.once("error", (err: NodeJS.ErrnoException) => {
        const code = err.code ?? "";
        if (code === "ECONNREFUSED") finish("closed", code);
        else if (FILTERED.has(code)) finish("filtered", code);
        else {
          clearTimeout(timer);
          stop.removeEventListener("abort", onStop);
          socket.once("close", () =>
            reject(
              toSocketError(err, { action: "connect to", address: hostPort(address, port), port }),
            ),
          );
          socket.destroy();
        }
      });
      socket.connect({ port, host: address, family });
    });
  });
}
