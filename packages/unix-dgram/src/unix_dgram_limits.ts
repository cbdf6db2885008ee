import { readFileSync } from "node:fs";

/**
 * The receive slot per datagram: a datagram of up to this many bytes arrives
 * whole; a longer one arrives as its first 65,536 bytes flagged
 * `truncated: true` (the addon reads `MSG_TRUNC`).
 *
 * @example
 * ```ts
 * import { UNIX_DGRAM_RECEIVE_BUFFER } from "@socklab/unix-dgram";
 * const wholeUpTo = UNIX_DGRAM_RECEIVE_BUFFER; // 65,536 bytes
 * ```
 */
export const UNIX_DGRAM_RECEIVE_BUFFER = 65_536;

/** The kernel's default send buffer when `/proc` cannot be read (Linux's usual `wmem_default`). */
const DEFAULT_WMEM = 212_992;

let sendLimit: number | undefined;

/**
 * The largest UNIX datagram the kernel accepts from a socklab socket on this
 * machine: Linux refuses a datagram longer than the socket's send buffer
 * (`SO_SNDBUF`) minus 32 bytes with `EMSGSIZE`, and socklab sockets keep the
 * default `SO_SNDBUF`, so the limit is `net.core.wmem_default - 32` (212,960
 * bytes with the usual 212,992; measured with Python on Linux 6.18). Receivers
 * built on socklab get up to {@linkcode UNIX_DGRAM_RECEIVE_BUFFER} bytes whole.
 *
 * @returns The limit in bytes, read once from `/proc/sys/net/core/wmem_default`.
 * @example
 * ```ts
 * import { unixDgramSendLimit } from "@socklab/unix-dgram";
 * unixDgramSendLimit(); // 212960 with Linux's default send buffer
 * ```
 */
export function unixDgramSendLimit(): number {
  if (sendLimit === undefined) {
    let wmem = DEFAULT_WMEM;
    try {
      const value = Number.parseInt(readFileSync("/proc/sys/net/core/wmem_default", "utf8"), 10);
      if (Number.isSafeInteger(value) && value > 32) wmem = value;
    } catch {
      // Not Linux, or /proc is not mounted: keep the usual default.
    }
    sendLimit = wmem - 32;
  }
  return sendLimit;
}
