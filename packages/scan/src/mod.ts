/**
 * Port scans as `nc -z` and nmap do them, for hosts you are allowed to scan:
 * {@linkcode parsePortList} reads `20-30,80,https`; {@linkcode scanTcp} connects
 * to each port and {@linkcode scanUdp} sends each a probe datagram, a bounded
 * number at a time with a per-port timeout, and yield `open`, `closed`,
 * `filtered` (UDP: `open|filtered`) per port in the order given.
 *
 * @example
 * ```ts
 * import { parsePortList, scanTcp } from "@socklab/scan";
 * for await (const r of scanTcp("127.0.0.1", parsePortList("20-30,80"), { concurrency: 50 })) {
 *   if (r.state === "open") console.log(`${r.port} open`);
 * }
 * ```
 *
 * @module
 */
export * from "./parse_port_list.ts";
export * from "./scan_result.ts";
export * from "./scan_tcp.ts";
export * from "./scan_udp.ts";
