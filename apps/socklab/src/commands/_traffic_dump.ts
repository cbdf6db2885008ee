/**
 * `-x/--hexdump` for every command: each chunk or datagram on stderr as core's
 * `formatTrafficDump` writes it (`> 16 bytes to tcp://…`, `< …`, then xxd lines).
 *
 * @module
 */
import { formatTrafficDump, type TrafficDirection } from "@socklab/core";

/** The `-x/--hexdump` option. */
export const hexdumpOption = {
  type: "boolean",
  short: "x",
  description:
    "Dump every chunk or datagram to stderr: > N bytes to …, < N bytes from …, xxd lines",
} as const;

/** Writes traffic dumps; a no-op when `--hexdump` was not given. */
export interface TrafficDump {
  /** Whether dumps are written at all. */
  readonly enabled: boolean;
  /** Dumps bytes sent to `peer`. */
  sent(peer: string, bytes: Uint8Array): void;
  /** Dumps bytes received from `peer`. */
  received(peer: string, bytes: Uint8Array): void;
  /** Forgets a stream peer's offsets (its connection closed). */
  forget(peer: string): void;
}

/**
 * Creates the dump writer of one command run. On a stream the offsets of a peer's
 * chunks continue in each direction, as in `socat -x`; each datagram starts at 0.
 *
 * @param enabled The `--hexdump` value.
 * @param stderr Where dumps go.
 * @param kind `"stream"` (offsets continue per peer and direction) or `"datagram"`.
 * @returns The writer.
 * @example
 * ```ts
 * import { trafficDump } from "./_traffic_dump.ts";
 * const dump = trafficDump(true, process.stderr, "stream");
 * dump.sent("tcp://127.0.0.1:80", Buffer.from("GET / HTTP/1.0\r\n\r\n"));
 * ```
 */
export function trafficDump(
  enabled: boolean,
  stderr: NodeJS.WritableStream,
  kind: "stream" | "datagram",
): TrafficDump {
  const offsets = new Map<string, number>();
  const write = (direction: TrafficDirection, peer: string, bytes: Uint8Array): void => {
    if (!enabled) return;
    if (kind === "datagram") {
      stderr.write(formatTrafficDump(direction, peer, bytes));
      return;
    }
    const key = `${direction} ${peer}`;
    const offset = offsets.get(key) ?? 0;
    offsets.set(key, offset + bytes.length);
    stderr.write(formatTrafficDump(direction, peer, bytes, offset));
  };
  return {
    enabled,
    sent: (peer, bytes) => write("sent", peer, bytes),
    received: (peer, bytes) => write("received", peer, bytes),
    forget: (peer) => {
      offsets.delete(`sent ${peer}`);
      offsets.delete(`received ${peer}`);
    },
  };
}
