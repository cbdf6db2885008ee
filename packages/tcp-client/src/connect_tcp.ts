import type { StreamConnection } from "@socklab/core";
import { openConnection } from "./_connect.ts";

/** Options for {@linkcode connectTcp}. */
export interface ConnectTcpOptions {
  /** A host name (`localhost`, `example.org`) or an IP address (`127.0.0.1`, `::1`; IPv6 without brackets). */
  host: string;
  /** The server's port, 1 to 65535. */
  port: number;
  /**
   * How long the whole attempt may take, name resolution included, in
   * milliseconds; 0 waits as long as the system does. Default 10 000.
   */
  timeoutMs?: number;
  /** Stops the attempt; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The local IP address to connect from; only addresses of its family are tried. */
  localAddress?: string;
  /** Send small writes at once instead of waiting to fill a segment (no Nagle). Default `true`. */
  noDelay?: boolean;
  /**
   * How long to wait for an attempt before the next address is tried too, in
   * milliseconds (RFC 8305's "Connection Attempt Delay"). Default 250.
   */
  attemptDelayMs?: number;
  /** Bytes read ahead and not yet consumed before reading pauses; see {@linkcode StreamConnection}. Default 1 MiB. */
  maxBuffered?: number;
}

/**
 * Connects to a TCP server, trying a host's addresses the way browsers do
 * (Happy Eyeballs, RFC 8305): the first address at once, the next one 250 ms
 * later or as soon as an attempt fails, the first to connect wins and the others
 * are cancelled. `localhost` means `::1` and `127.0.0.1` whatever `/etc/hosts`
 * says, so a server bound to either one is reached at once.
 *
 * @param options Host, port, timeout and the rest of {@linkcode ConnectTcpOptions}.
 * @returns The connection: `recv(n)` as in the tutorial, async iteration,
 *   `readUntil`, `readExactly`, `readToEnd`, `write` with backpressure, `end`
 *   (half-close) and `close`.
 * @throws {SocketError} One line naming the host and port, and the addresses
 *   tried when there were several: `Cannot connect to "localhost:50000":
 *   connection refused (nobody is listening; tried ::1, 127.0.0.1)`.
 * @throws {AddressError} `ERR_SOCKLAB_UNRESOLVABLE` when the name has no address.
 * @throws {TimeoutError} When `timeoutMs` passes first.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_PORT` and friends for bad options.
 * @example
 * ```ts
 * import { connectTcp } from "@socklab/tcp-client";
 *
 * const conn = await connectTcp({ host: "localhost", port: 50000 });
 * await conn.write("GET / HTTP/1.0\r\n\r\n");
 * const answer = await conn.readToEnd();
 * await conn.close();
 * ```
 */
export function connectTcp(options: ConnectTcpOptions): Promise<StreamConnection> {
  return openConnection(options);
}
