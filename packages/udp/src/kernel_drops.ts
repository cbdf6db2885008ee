/**
 * What the Linux kernel counts for a UDP socket and Node does not tell: how
 * many datagrams it dropped because the socket's receive buffer was full. It
 * is the `drops` column of `/proc/net/udp` and `/proc/net/udp6`, one row per
 * socket, found by the socket's inode (the same losses, summed over every
 * socket of the system, are `RcvbufErrors` in `/proc/net/snmp`).
 *
 * UNIX datagram sockets have no such count: `/proc/net/unix` has no drops
 * column, and the kernel does not drop a local datagram for a full receiver —
 * the sender waits, or gets `EAGAIN` when it does not block.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** One socket of `/proc/net/udp` or `/proc/net/udp6`. */
export interface ProcNetUdpRow {
  /** The local port. */
  localPort: number;
  /** The socket's inode: `socket:[inode]` in `/proc/<pid>/fd`. */
  inode: number;
  /** Datagrams the kernel dropped for this socket (receive buffer full, or a bad checksum). */
  drops: number;
}

/**
 * Reads the rows of `/proc/net/udp` or `/proc/net/udp6`.
 *
 * @param text The file's content (a header line, then one line per socket).
 * @returns The sockets; lines that do not parse are left out.
 * @example
 * ```ts
 * import { parseProcNetUdp } from "@socklab/udp";
 * parseProcNetUdp(
 *   "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
 *     "  245: 0100007F:C350 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 91234 2 0000000000000000 17\n",
 * ); // [{ localPort: 50000, inode: 91234, drops: 17 }]
 * ```
 */
export function parseProcNetUdp(text: string): ProcNetUdpRow[] {
  const rows: ProcNetUdpRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) continue;
    const local = fields[1]!;
    const colon = local.lastIndexOf(":");
    const localPort = Number.parseInt(local.slice(colon + 1), 16);
    const inode = Number(fields[9]);
    const drops = Number(fields[12]);
    if (colon < 0 || !Number.isSafeInteger(localPort) || !Number.isSafeInteger(inode)) continue;
    if (!Number.isSafeInteger(drops)) continue;
    rows.push({ localPort, inode, drops });
  }
  return rows;
}

function procNetUdp(family: 4 | 6): ProcNetUdpRow[] | undefined {
  try {
    return parseProcNetUdp(
      readFileSync(family === 6 ? "/proc/net/udp6" : "/proc/net/udp", "latin1"),
    );
  } catch {
    return undefined;
  }
}

/**
 * The inodes of this process's open sockets, from `/proc/self/fd`.
 *
 * @returns The inodes; empty where there is no `/proc`.
 */
export function ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m !== null) inodes.add(Number(m[1]));
    } catch {
      // Closed meanwhile (readdir's own fd, for one).
    }
  }
  return inodes;
}

/**
 * Finds this process's UDP socket on a port, for {@linkcode readUdpDrops}.
 *
 * @param family 4 for `/proc/net/udp`, 6 for `/proc/net/udp6` (dual-stack sockets too).
 * @param port The bound port.
 * @returns The socket's inode; `undefined` without `/proc`, or when this
 *   process has no socket on that port, or several.
 * @example
 * ```ts
 * import { createUdpSocket, findUdpInode, readUdpDrops } from "@socklab/udp";
 * const socket = await createUdpSocket({ host: "127.0.0.1", port: 0 });
 * const inode = findUdpInode(4, socket.port);
 * if (inode !== undefined) readUdpDrops(4, inode); // 0
 * ```
 */
export function findUdpInode(family: 4 | 6, port: number): number | undefined {
  const rows = procNetUdp(family)?.filter((r) => r.localPort === port);
  if (rows === undefined || rows.length === 0) return undefined;
  const own = ownSocketInodes();
  const mine = rows.filter((r) => own.has(r.inode));
  return mine.length === 1 ? mine[0]!.inode : undefined;
}

/**
 * The kernel's count of datagrams it dropped for a UDP socket since it was
 * created, mostly because its receive buffer was full.
 *
 * @param family 4 or 6, the table the socket is in.
 * @param inode The socket's inode ({@linkcode findUdpInode}).
 * @returns The count; `undefined` without `/proc` or once the socket is closed.
 * @example
 * ```ts
 * import { readUdpDrops } from "@socklab/udp";
 * readUdpDrops(4, 91234); // 17, or undefined
 * ```
 */
export function readUdpDrops(family: 4 | 6, inode: number): number | undefined {
  return procNetUdp(family)?.find((r) => r.inode === inode)?.drops;
}
