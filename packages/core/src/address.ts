/**
 * The typed model of a socket address, shared by every transport.
 *
 * @module
 */

/** The four transports of the tutorial (TCP, UDP, UNIX stream and UNIX datagram sockets), and TLS over TCP. */
export type Transport = "tcp" | "tls" | "udp" | "unix" | "unixgram";

/** An address of an IP socket (`tcp://127.0.0.1:50000`, `udp://[::1]:53`, `tls://localhost:4433`). */
export interface IpAddress {
  readonly transport: "tcp" | "tls" | "udp";
  /**
   * A literal IPv4 or IPv6 address (IPv6 without brackets, with an optional `%zone`),
   * a host name, or `""` for all interfaces, as in the tutorial.
   */
  readonly host: string;
  /** 0 to 65535; 0 lets the system pick. */
  readonly port: number;
}

/** An address of a UNIX socket: a path in the file system or a Linux abstract name. */
export interface UnixAddress {
  readonly transport: "unix" | "unixgram";
  /** The file system path, or for an abstract socket its name without the leading `@`. */
  readonly path: string;
  /** Whether `path` is a Linux abstract name (`unix:@name`), which leaves no file. */
  readonly abstract: boolean;
}

/** Any socket address socklab knows. */
export type SocketAddress = IpAddress | UnixAddress;

/**
 * Whether an address is an IP (TCP, TLS or UDP) address.
 *
 * @param address The address.
 * @returns `true` for `tcp`, `tls` and `udp`.
 * @example
 * ```ts
 * import { isIpAddress } from "@socklab/core";
 * isIpAddress({ transport: "tcp", host: "::1", port: 80 }); // true
 * ```
 */
export function isIpAddress(address: SocketAddress): address is IpAddress {
  return address.transport === "tcp" || address.transport === "tls" || address.transport === "udp";
}

/**
 * Whether an address is a UNIX (stream or datagram) address.
 *
 * @param address The address.
 * @returns `true` for `unix` and `unixgram`.
 * @example
 * ```ts
 * import { isUnixAddress } from "@socklab/core";
 * isUnixAddress({ transport: "unix", path: "/tmp/s", abstract: false }); // true
 * ```
 */
export function isUnixAddress(address: SocketAddress): address is UnixAddress {
  return address.transport === "unix" || address.transport === "unixgram";
}
