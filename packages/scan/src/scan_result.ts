/** What a probe found on one port. */
export type PortState = "open" | "closed" | "filtered" | "open|filtered";

/** One port's result, as {@linkcode scanTcp} and {@linkcode scanUdp} yield it. */
export interface ScanResult {
  /** The port probed. */
  port: number;
  /** The address probed (the host's first address of the family asked for). */
  address: string;
  /**
   * `open`: TCP connected, or UDP got a reply. `closed`: TCP refused (RST), or UDP
   * got ICMP port unreachable. `filtered`: TCP got no answer in time, or the host
   * or network is unreachable. `open|filtered`: UDP got neither a reply nor a refusal.
   */
  state: PortState;
  /** Milliseconds from the first packet to the verdict, to 0.1 ms. */
  ms: number;
  /** The system error code behind `closed` or `filtered` (`ECONNREFUSED`, `EHOSTUNREACH`, `ETIMEDOUT`). */
  error?: string;
}

/** Options shared by {@linkcode scanTcp} and {@linkcode scanUdp}. */
export interface ScanOptions {
  /** Ports probed at once, which is also the most sockets open at once. Default 100. */
  concurrency?: number;
  /** How long one port may take before it counts as filtered (UDP: open|filtered). Default 1000. */
  timeoutMs?: number;
  /** Which address family to scan when the host has both. Default: the host's first address. */
  family?: 4 | 6;
  /** Stops the scan: the iteration ends with the signal's reason and every socket closes. */
  signal?: AbortSignal;
  /** Called with each socket as it opens (tests count them). */
  onSocket?: (socket: unknown) => void;
}
