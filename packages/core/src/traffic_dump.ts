/**
 * Traffic dumps in the habit of `ncat --hex-dump` and `socat -x`: a header line
 * saying which way the bytes went, then the bytes as `xxd` shows them.
 *
 * @module
 */
import { hexdump } from "./hexdump.ts";

/** Which way a chunk went: `"sent"` (to the peer) or `"received"` (from it). */
export type TrafficDirection = "sent" | "received";

/**
 * Formats one chunk or datagram for a traffic dump: `> 16 bytes to tcp://127.0.0.1:80`
 * (sent) or `< 16 bytes from tcp://127.0.0.1:80` (received), then `xxd`-style lines
 * whose offsets continue where the previous chunk in that direction stopped.
 *
 * @param direction `"sent"` or `"received"`.
 * @param peer The other end, as users read it (`tcp://127.0.0.1:80`, `unix:///tmp/s`).
 * @param bytes The chunk.
 * @param offset Bytes that went the same way before this chunk (the first line's offset).
 * @returns The header and the dump, each line ending in `"\n"`.
 * @example
 * ```ts
 * import { formatTrafficDump } from "@socklab/core";
 * formatTrafficDump("sent", "tcp://127.0.0.1:80", Buffer.from("Hello\n"));
 * // "> 6 bytes to tcp://127.0.0.1:80\n00000000: 4865 6c6c 6f0a                           Hello.\n"
 * ```
 */
export function formatTrafficDump(
  direction: TrafficDirection,
  peer: string,
  bytes: Uint8Array,
  offset = 0,
): string {
  const unit = bytes.length === 1 ? "byte" : "bytes";
  const header =
    direction === "sent"
      ? `> ${bytes.length} ${unit} to ${peer}`
      : `< ${bytes.length} ${unit} from ${peer}`;
  return bytes.length === 0 ? `${header}\n` : `${header}\n${hexdump(bytes, { offset })}\n`;
}
