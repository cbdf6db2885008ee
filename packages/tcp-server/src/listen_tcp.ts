import type { AddressInfo } from "node:net";
import {
  bindOnOnePort,
  type ConnectionHandler,
  formatAddress,
  invalidArgument,
  parsePort,
  planListen,
  privilegedPortNote,
  SocketError,
  StreamServer,
  type StreamServerOptions,
} from "@socklab/core";

/** Options of {@linkcode listenTcp}. */
export interface ListenTcpOptions extends StreamServerOptions {
  /** Serves each connection. */
  handler: ConnectionHandler;
  /**
   * Where to listen: a name (every address it resolves to; `localhost` is `::1`
   * and `127.0.0.1`), an IP literal, or `""`/`::` for all interfaces (one
   * dual-stack socket). Default `"localhost"`, as in the tutorial.
   */
  host?: string;
  /** The port; 0 lets the system pick one (the same one on every address). Default 50000. */
  port?: number;
  /** Length of the queue of connections not yet accepted (Node's default when omitted). */
  backlog?: number;
  /** For an IPv6 wildcard (`::`): accept IPv6 only, not IPv4 as well. */
  ipv6Only?: boolean;
}

/**
 * A TCP server: a {@linkcode StreamServer} (handler per connection, limits,
 * idle timeout, graceful close, stats and events) listening on one or more IP
 * addresses on one port. Made by {@linkcode listenTcp}.
 *
 * @example
 * ```ts
 * import { listenTcp } from "@socklab/tcp-server";
 * const server = await listenTcp({ port: 0, handler: async (conn) => { await conn.write("hi\n"); } });
 * server.addresses; // ["tcp://[::1]:40123", "tcp://127.0.0.1:40123"]
 * await server.close();
 * ```
 */
export class TcpServer extends StreamServer {
  /** The addresses listened on, in URI form: `tcp://127.0.0.1:50000`, `tcp://[::1]:50000`. */
  get addresses(): string[] {
    const out: string[] = [];
    for (const server of this.servers) {
      const info = server.address() as AddressInfo | null;
      if (info !== null) {
        out.push(formatAddress({ transport: "tcp", host: info.address, port: info.port }));
      }
    }
    return out;
  }

  /** The port listened on (the real one when port 0 was asked for); 0 once closed. */
  get port(): number {
    for (const server of this.servers) {
      const info = server.address() as AddressInfo | null;
      if (info !== null) return info.port;
    }
    return 0;
  }

  /**
   * Stops accepting new connections but leaves the open ones alone (the
   * tutorial's server serves one connection: see `--once`); clients that
   * connect afterwards are refused by the system. {@linkcode close} still
   * closes everything.
   *
   * @returns Nothing; the listening sockets are closed when it returns.
   * @example
   * ```ts
   * server.once("connection", () => server.stopAccepting());
   * ```
   */
  stopAccepting(): void {
    // Node's close() stops listening at once; its callback would wait for every connection.
    for (const server of this.servers) if (server.listening) server.close();
  }
}

/**
 * Listens for TCP connections on every address a host resolves to, on one port.
 *
 * `localhost` resolves to `::1` and `127.0.0.1`: both are bound on the same
 * port (with port 0, one the system picks free on the first address; if it is
 * taken on another, a fresh port is tried, a few times). IPv6 addresses next to IPv4
 * ones are bound with `ipv6Only` so they do not clash; `""` and `::` are one
 * dual-stack socket. Like the tutorial's `SO_REUSEADDR`, a port can be bound
 * again right after a server on it stopped, even with connections in
 * TIME_WAIT (Node sets `SO_REUSEADDR` on every TCP listener on Unix).
 *
 * @param options Where to listen, the handler, limits and timeouts.
 * @returns The server, listening.
 * @throws {SocketError} One line per failure: `Cannot bind "127.0.0.1:50000": address already in use`;
 *   for ports below 1024 without privileges `Cannot bind "127.0.0.1:80": permission denied (port 80 is
 *   below 1024: …)`.
 * @throws {AddressError} When the host does not resolve.
 * @example
 * ```ts
 * import { helloWeb, listenTcp } from "@socklab/tcp-server";
 * const web = helloWeb();
 * const server = await listenTcp({ port: 0, handler: web, onRefused: web.onRefused, maxConnections: 100 });
 * console.log(server.addresses); // ["tcp://[::1]:41234", "tcp://127.0.0.1:41234"]
 * await server.close({ graceMs: 1000 });
 * ```
 */
export async function listenTcp(options: ListenTcpOptions): Promise<TcpServer> {
  const { handler, host: rawHost = "localhost", port: rawPort = 50000, backlog } = options;
  if (typeof handler !== "function") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_HANDLER",
      "Cannot listen without a handler: pass handler, a function serving one connection",
    );
  }
  const port = parsePort(rawPort);
  if (backlog !== undefined && (!Number.isSafeInteger(backlog) || backlog < 0)) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use backlog "${String(backlog)}": it must be a whole number, at least 0`,
    );
  }
  const host = rawHost.startsWith("[") && rawHost.endsWith("]") ? rawHost.slice(1, -1) : rawHost;
  const plans = await planListen(host);
  const serverOptions: StreamServerOptions = {
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered }),
    ...(options.onRefused === undefined ? {} : { onRefused: options.onRefused }),
    ...(options.noDelay === undefined ? {} : { noDelay: options.noDelay }),
  };
  const server = new TcpServer(handler, serverOptions);
  try {
    // Core's one port-0 strategy: the first socket picks the port, the others take it.
    await bindOnOnePort(
      plans,
      port,
      async (plan, wanted) => {
        const listener = await server.listen({
          host: plan.address,
          port: wanted,
          ipv6Only: !plan.dual || options.ipv6Only === true,
          ...(backlog === undefined ? {} : { backlog }),
        });
        return { handle: listener, port: (listener.server.address() as AddressInfo).port };
      },
      async (listener) => {
        await listener.stop();
        await new Promise<void>((resolve) => listener.server.once("close", () => resolve()));
      },
    );
    return server;
  } catch (err) {
    await server.close({ graceMs: 0 });
    throw explainBindError(err);
  }
}

/** Adds why a port below 1024 is refused to the one-line permission error. */
function explainBindError(err: unknown): unknown {
  if (!(err instanceof SocketError) || (err.code !== "EACCES" && err.code !== "EPERM")) return err;
  if (err.port === undefined) return err;
  const note = privilegedPortNote(err.port);
  if (note === undefined) return err;
  return new SocketError(`${err.message} (${note[0]!.toLowerCase()}${note.slice(1)})`, {
    code: err.code,
    cause: err.cause,
    ...(err.address === undefined ? {} : { address: err.address }),
    ...(err.syscall === undefined ? {} : { syscall: err.syscall }),
    ...(err.errno === undefined ? {} : { errno: err.errno }),
    port: err.port,
  });
}

/** @internal For tests: the permission message. */
export const _explainBindError = explainBindError;
