import { invalidArgument, servicePort } from "@socklab/core";

/** Options for {@linkcode parsePortList}. */
export interface ParsePortListOptions {
  /** The protocol service names are looked up for. Default `"tcp"`. */
  protocol?: "tcp" | "udp";
  /** At most this many ports after merging duplicates. Default 65535 (every port). */
  limit?: number;
}

/** More items than this is not a port list someone wrote; it bounds the work of parsing. */
const MAX_ITEMS = 1000;

/**
 * Reads a port list as `nc -z` and nmap take it: ports, ranges and service
 * names separated by commas (`20-30,80,https`). Ports keep the order they are
 * written in; a port written twice (`80,http`, `1-10,5`) is scanned once, at its first place.
 *
 * @param text The list as written.
 * @param options Protocol for service names, and a limit on the number of ports.
 * @returns The ports, 1 to 65535 each, without duplicates.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_PORT_LIST` for an empty item, a port
 *   outside 1-65535, a backwards range, an unknown service or more ports than `limit`.
 * @example
 * ```ts
 * import { parsePortList } from "@socklab/scan";
 * parsePortList("20-22,80,https,22"); // [20, 21, 22, 80, 443]
 * ```
 */
export function parsePortList(text: string, options: ParsePortListOptions = {}): number[] {
  const protocol = options.protocol ?? "tcp";
  const limit = options.limit ?? 65535;
  const items = text.split(",");
  if (items.length > MAX_ITEMS)
    throw listError(`Cannot use ports "${shorten(text)}": at most ${MAX_ITEMS} items`);
  const seen = new Uint8Array(65536);
  const ports: number[] = [];
  for (const raw of items) {
    const item = raw.trim();
    // "http-alt" is a service; "ftp-ssh" and "20-30" are ranges.
    const range = isService(item, protocol) ? null : /^([^-]*)-([^-]*)$/.exec(item);
    const first = readPort(range === null ? item : range[1]!.trim(), text, protocol);
    const last = range === null ? first : readPort(range[2]!.trim(), text, protocol);
    if (last < first)
      throw listError(`Cannot use ports "${item}": the range goes backwards (${first} > ${last})`);
    for (let port = first; port <= last; port++) {
      if (seen[port] === 1) continue;
      seen[port] = 1;
      ports.push(port);
      if (ports.length > limit)
        throw listError(`Cannot use ports "${shorten(text)}": more than ${limit} ports`);
    }
  }
  return ports;
}

function readPort(item: string, text: string, protocol: "tcp" | "udp"): number {
  if (item === "")
    throw listError(
      `Cannot use ports "${shorten(text)}": expected ports, ranges or service names separated by commas, such as 20-30,80,443`,
    );
  if (/^\d+$/.test(item)) {
    const port = Number(item);
    if (port >= 1 && port <= 65535) return port;
    throw listError(`Cannot use port "${item}": ports to scan are 1 to 65535`);
  }
  if (/^[a-z][a-z0-9_+-]*$/i.test(item)) {
    const port = servicePort(item, protocol);
    if (port !== undefined && port >= 1) return port;
    throw listError(`Cannot use port "${item}": no such ${protocol} service in /etc/services`);
  }
  throw listError(
    `Cannot use port "${shorten(item)}": expected a number from 1 to 65535 or a service name`,
  );
}

function isService(item: string, protocol: "tcp" | "udp"): boolean {
  return /^[a-z][a-z0-9_+-]*$/i.test(item) && servicePort(item, protocol) !== undefined;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function listError(message: string): RangeError & { code: string } {
  return invalidArgument("range", "ERR_SOCKLAB_INVALID_PORT_LIST", message) as RangeError & {
    code: string;
  };
}
