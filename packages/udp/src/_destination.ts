/**
 * Reading where a datagram goes: `"host:port"`, `"udp://host:port"` or
 * `{ host, port }`, and resolving the host to addresses.
 *
 * @module
 */
import { isIP, SocketAddress } from "node:net";
import {
  AddressError,
  formatHostPort,
  invalidArgument,
  isIpAddress,
  parseAddress,
  type ResolvedAddress,
  resolveHost,
} from "@socklab/core";

/** Where a datagram goes: `"host:port"`, `"udp://[::1]:53"` or `{ host, port }`. */
export type UdpDestination = string | { readonly host: string; readonly port: number };

/** A destination as read, before resolving its host. */
export interface ParsedDestination {
  /** The host as written (IPv6 without brackets). */
  host: string;
  port: number;
  /** The destination as people read it, for messages: `localhost:50000`, `[::1]:53`. */
  label: string;
}

/**
 * Reads a destination and checks its port.
 *
 * @param to The destination.
 * @returns Host, port and label.
 * @throws {AddressError} for a malformed address; `RangeError` `ERR_SOCKLAB_INVALID_PORT` for port 0 or a bad port.
 */
export function parseDestination(to: UdpDestination): ParsedDestination {
  let host: string;
  let port: number;
  if (typeof to === "string") {
    const address = parseAddress(to, { transport: "udp" });
    if (!isIpAddress(address) || address.transport !== "udp") {
      throw new AddressError(
        `Cannot send to "${to}": a UDP socket sends to udp://HOST:PORT, not ${address.transport} addresses`,
      );
    }
    host = address.host;
    port = address.port;
  } else if (
    to !== null &&
    typeof to === "object" &&
    typeof to.host === "string" &&
    typeof to.port === "number"
  ) {
    host = to.host;
    port = to.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw invalidArgument(
        "range",
        "ERR_SOCKLAB_INVALID_PORT",
        `Cannot use port "${port}": ports are 0 to 65535`,
      );
    }
  } else {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_DESTINATION",
      `Cannot send to ${String(to)}: expected "host:port" or { host, port }`,
    );
  }
  const label = host === "" ? `:${port}` : formatHostPort(host, port);
  if (port === 0) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_PORT",
      `Cannot send to "${label}": port 0 is not a destination`,
    );
  }
  return { host, port, label };
}

/**
 * Resolves a destination's host: literals at once (no lookup on the hot path),
 * names through core's {@linkcode resolveHost}.
 *
 * @param host The host.
 * @param family Only this family, if given.
 * @returns The addresses, in the order to try them; IPv6 literals in canonical form.
 */
export async function resolveDestinationHost(
  host: string,
  family?: 4 | 6,
): Promise<ResolvedAddress[]> {
  const literal = isIP(host) as 0 | 4 | 6;
  if (literal !== 0 && (family === undefined || family === literal)) {
    return [{ address: literal === 6 ? canonicalIpv6(host) : host, family: literal }];
  }
  if (host === "" || host === "0.0.0.0" || host === "::") {
    // Sending to the wildcard reaches this machine, as Python does; say so plainly.
    return resolveHost(family === 4 ? "127.0.0.1" : family === 6 ? "::1" : "localhost");
  }
  return resolveHost(host, family === undefined ? {} : { family });
}

/**
 * The canonical text of an IPv6 address (`0:0:0:0:0:0:0:1` → `::1`), as the
 * kernel reports senders, so replies can be matched to requests.
 *
 * @param address An IPv6 literal, with an optional zone.
 * @returns The canonical form.
 */
export function canonicalIpv6(address: string): string {
  const zone = address.indexOf("%");
  const bare = zone < 0 ? address : address.slice(0, zone);
  let canonical = bare;
  try {
    canonical = new SocketAddress({ address: bare, family: "ipv6" }).address;
  } catch {
    // Leave it as written; the bind or send reports what is wrong with it.
  }
  return zone < 0 ? canonical : canonical + address.slice(zone);
}
