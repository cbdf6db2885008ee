import { createSocket } from "node:dgram";
import { toSocketError } from "@socklab/core";
import { elapsed, hostPort, scanWindow, timeoutOf } from "./_scan_window.ts";
import type { ScanOptions, ScanResult } from "./scan_result.ts";

/** Options for {@linkcode scanUdp}. */
export interface UdpScanOptions extends ScanOptions {
  /** The probe datagram. Default empty: any UDP port that exists answers it with ICMP or not at all. */
  payload?: Uint8Array;
}

/** Answers that say nothing is reachable there: the port counts as filtered. */
const FILTERED = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "EACCES", "EPERM"]);

/**
 * Scans UDP ports with one probe datagram each on a connected socket: a reply is
 * `open`; ICMP port unreachable, which the kernel reports on a connected socket as
 * `ECONNREFUSED`, is `closed`; silence until the timeout is `open|filtered`, as
 * nmap calls it (a service that ignores the probe and a firewall that drops it look
 * alike). Kernels rate-limit ICMP, so silence from many closed ports can read as open|filtered.
 *
 * @param host A host name or IP literal (the first address it resolves to is scanned).
 * @param ports The ports, 1 to 65535 (see {@linkcode parsePortList}).
 * @param options Concurrency, per-port timeout, probe payload, address family, stop signal.
 * @returns The results, one per port, in the order of `ports`.
 * @throws {AddressError} when the host does not resolve; {@linkcode SocketError} for a
 *   local failure such as running out of descriptors; the signal's reason when aborted.
 * @example
 * ```ts
 * import { scanUdp } from "@socklab/scan";
 * for await (const r of scanUdp("127.0.0.1", [53, 9], { timeoutMs: 500 })) {
 *   console.log(r.port, r.state); // 53 open, 9 closed
 * }
 * ```
 */
export function scanUdp(
  host: string,
  ports: Iterable<number>,
  options: UdpScanOptions = {},
): AsyncGenerator<ScanResult, void, undefined> {
  const timeoutMs = timeoutOf(options);
  const payload = options.payload ?? new Uint8Array(0);
  return scanWindow(host, ports, options, (port, address, family, stop) => {
    return new Promise<ScanResult>((resolve, reject) => {
      let start = performance.now();
      const socket = createSocket(family === 6 ? "udp6" : "udp4");
      options.onSocket?.(socket);
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      // Settles once the descriptor is closed, so `concurrency` bounds descriptors, not just probes.
      const end = (then: () => void): void => {
        done = true;
        clearTimeout(timer);
        stop.removeEventListener("abort", onStop);
        socket.close(then);
      };
      const finish = (state: ScanResult["state"], error?: string): void => {
        if (done) return;
        const result = { port, address, state, ms: elapsed(start), ...(error ? { error } : {}) };
        end(() => resolve(result));
      };
      const onStop = (): void => finish("filtered", "ABORTED");
      stop.addEventListener("abort", onStop, { once: true });
      socket.once("message", () => finish("open"));
      socket.on("error", (err: NodeJS.ErrnoException) => {
        const code = err.code ?? "";
        if (code === "ECONNREFUSED") finish("closed", code);
        else if (FILTERED.has(code)) finish("filtered", code);
        else if (!done) {
          const failure = toSocketError(err, {
            action: "send to",
            address: hostPort(address, port),
            port,
          });
          end(() => reject(failure));
        }
      });
      socket.connect(port, address, () => {
        if (done) return;
        start = performance.now();
        timer = setTimeout(() => finish("open|filtered", "ETIMEDOUT"), timeoutMs);
        socket.send(payload, (err) => {
          if (err) socket.emit("error", err);
        });
      });
    });
  });
}
