/**
 * Connecting to and listening on any stream address of the core grammar
 * (`tcp://host:port`, `tls://host:port`, `unix:///path`, `unix:@name`) through the transport packages.
 *
 * @module
 */
import { createSecureContext } from "node:tls";
import {
  type ConnectionHandler,
  formatAddress,
  invalidArgument,
  type SocketAddress,
  type StreamConnection,
  type StreamServer,
  type StreamServerOptions,
} from "@socklab/core";
import { connectTcp } from "@socklab/tcp-client";
import { listenTcp } from "@socklab/tcp-server";
import { connectUnix, listenUnix } from "@socklab/unix-stream";
import { throwawayCertificate } from "./throwaway_certificate.ts";
import { secureClient, secureServer, type TlsOptions } from "./tls_stream.ts";

/** Options of {@linkcode connectStream}. */
export interface ConnectStreamOptions {
  /** Give up after this many milliseconds; 0 waits as long as the system does. Default 10 000. */
  timeoutMs?: number;
  /** Give up when this aborts. */
  signal?: AbortSignal;
  /** For `tls://`: certificates and verification. */
  tls?: TlsOptions;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connects to a stream address: TCP (every address of the host, as browsers
 * try them) or a UNIX stream socket (path or abstract name).
 *
 * @param address A `tcp`, `tls` or `unix` address.
 * @param options Timeout and abort signal.
 * @returns The connection.
 * @throws {TypeError} `ERR_SOCKLAB_NOT_A_STREAM` for a `udp` or `unixgram` address.
 * @throws {SocketError} One line naming the address: `Cannot connect to "127.0.0.1:9": connection refused (nobody is listening)`.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { connectStream } from "@socklab/relay";
 * const conn = await connectStream(parseAddress("unix:///tmp/unixsocket_tcp"));
 * await conn.close();
 * ```
 */
export function connectStream(
  address: SocketAddress,
  options: ConnectStreamOptions = {},
): Promise<StreamConnection> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  if (address.transport === "tcp") {
    return connectTcp({ host: address.host, port: address.port, timeoutMs, ...signal });
  }
  if (address.transport === "tls") {
    return connectTcp({ host: address.host, port: address.port, timeoutMs, ...signal }).then(
      (conn) =>
        secureClient(conn, {
          ...options.tls,
          host: address.host,
          label: formatAddress(address),
          ...(timeoutMs === 0 ? {} : { timeoutMs }),
        }),
    );
  }
  if (address.transport === "unix") {
    return connectUnix({
      path: address.path,
      abstract: address.abstract,
      ...(timeoutMs === 0 ? {} : { timeoutMs }),
      ...signal,
    });
  }
  return Promise.reject(notAStream(address, "connect to"));
}

/** A listening stream server from {@linkcode listenStream}. */
export interface StreamListener {
  /** The addresses listened on, in URI form (the real port for port 0). */
  readonly addresses: readonly string[];
  /** The server: events (`connection`, `close`, `refused`), stats, connections. */
  readonly server: StreamServer;
  /** Stops accepting and closes the connections, after a grace period for their handlers. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Options of {@linkcode listenStream}. */
export type ListenStreamOptions = Pick<
  StreamServerOptions,
  "maxConnections" | "idleTimeoutMs" | "maxBuffered" | "onRefused"
> & {
  /** For `tls://`: certificate and key; without them a throwaway self-signed certificate is made. */
  tls?: TlsOptions;
  /** For `tls://`: told the SHA-256 fingerprint of the throwaway certificate, once, before listening. */
  onThrowawayCertificate?: (fingerprint: string) => void;
  /** For `tls://`: told of each client whose handshake failed (the server goes on serving others). */
  onHandshakeError?: (error: Error) => void;
};

/**
 * Listens on a stream address: TCP (`localhost` is `::1` and `127.0.0.1` on one
 * port), TLS over TCP (the handler gets the plaintext after the handshake), or a
 * UNIX stream socket (stale socket files removed, live ones refused, the file
 * removed on close).
 *
 * @param address A `tcp`, `tls` or `unix` address.
 * @param handler Serves each connection; the connection is closed when it settles.
 * @param options Connection limit, idle timeout, read-ahead, what to tell refused clients.
 * @returns The listener.
 * @throws {TypeError} `ERR_SOCKLAB_NOT_A_STREAM` for a `udp` or `unixgram` address.
 * @throws {AddressInUseError} `Cannot bind "127.0.0.1:50000": address already in use`, and the transports' other errors.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { listenStream } from "@socklab/relay";
 * const listener = await listenStream(parseAddress("tcp://127.0.0.1:0"), async (conn) => {
 *   for await (const chunk of conn) await conn.write(chunk);
 * });
 * listener.addresses; // ["tcp://127.0.0.1:41234"]
 * await listener.close();
 * ```
 */
export async function listenStream(
  address: SocketAddress,
  handler: ConnectionHandler,
  options: ListenStreamOptions = {},
): Promise<StreamListener> {
  const { tls, onThrowawayCertificate, onHandshakeError, ...serverOptions } = options;
  if (address.transport === "tcp") {
    const server = await listenTcp({
      host: address.host,
      port: address.port,
      handler,
      ...serverOptions,
    });
    return { addresses: server.addresses, server, close: (o) => server.close(o) };
  }
  if (address.transport === "tls") {
    let pem = { cert: tls?.cert, key: tls?.key };
    if (pem.cert === undefined || pem.key === undefined) {
      if (pem.cert !== undefined || pem.key !== undefined) {
        throw invalidArgument(
          "type",
          "ERR_SOCKLAB_TLS_KEY_PAIR",
          `Cannot listen on "${formatAddress(address)}": give both a certificate and its key, or neither`,
        );
      }
      const made = await throwawayCertificate();
      pem = made;
      onThrowawayCertificate?.(made.fingerprint);
    }
    const context = createSecureContext({ cert: pem.cert, key: pem.key });
    const server = await listenTcp({
      host: address.host,
      port: address.port,
      handler: async (outer, context_) => {
        let conn: StreamConnection;
        try {
          conn = await secureServer(outer, context);
        } catch (err) {
          onHandshakeError?.(err as Error);
          return;
        }
        try {
          await handler(conn, context_);
        } finally {
          await conn.close();
        }
      },
      ...serverOptions,
    });
    return {
      addresses: server.addresses.map((a) => a.replace(/^tcp:/, "tls:")),
      server,
      close: (o) => server.close(o),
    };
  }
  if (address.transport === "unix") {
    const unix = await listenUnix({
      path: address.path,
      abstract: address.abstract,
      handler,
      ...options,
    });
    return {
      addresses: [unix.address],
      server: unix.server,
      close: async (o) => {
        await unix.close(o);
      },
    };
  }
  throw notAStream(address, "listen on");
}

function notAStream(address: SocketAddress, action: string): TypeError {
  return invalidArgument(
    "type",
    "ERR_SOCKLAB_NOT_A_STREAM",
    `Cannot ${action} "${formatAddress(address)}" as a stream: it is a datagram address`,
  ) as TypeError;
}
