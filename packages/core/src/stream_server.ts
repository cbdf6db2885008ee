import { EventEmitter } from "node:events";
import { Server, type Socket } from "node:net";
import { closeWithGrace, refuseConnection } from "./connection_limit.ts";
import { formatHostPort } from "./format_address.ts";
import { listenStream, type StreamListener, type StreamTarget } from "./server_socket.ts";
import { StreamConnection } from "./stream_connection.ts";
import { toSocketError } from "./system_error.ts";

/** What a connection handler gets besides the connection. */
export interface ConnectionContext {
  /** Aborted when the server starts closing: finish the current exchange and return. */
  signal: AbortSignal;
  /** The listener (its label) the connection came in on. */
  listener: string;
}

/** Serves one connection; the server closes the connection when the returned promise settles. */
export type ConnectionHandler = (
  connection: StreamConnection,
  context: ConnectionContext,
) => Promise<void> | void;

/** Options of a {@linkcode StreamServer}. */
export interface StreamServerOptions {
  /** Most connections served at once; past it new ones are refused (default: no limit). */
  maxConnections?: number;
  /** Closes a connection after this long without traffic either way (default: never). */
  idleTimeoutMs?: number;
  /** Bytes read ahead per connection before reading pauses (StreamConnection's `maxBuffered`). */
  maxBuffered?: number;
  /**
   * Called with a refused socket (over `maxConnections`) before it is closed, to tell the
   * client why (write a line, an HTTP 503, …). The socket is ended afterwards.
   */
  onRefused?: (socket: Socket) => string | Uint8Array | undefined;
  /** Turns Nagle's algorithm off on TCP connections (default true: small answers go out at once). */
  noDelay?: boolean;
}

/** Counters of a {@linkcode StreamServer}. */
export interface StreamServerStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connections refused over the limit. */
  refused: number;
  /** Connections open now. */
  active: number;
  /** Handlers that threw for another reason than the peer leaving or going idle. */
  failed: number;
}

/** Events of a {@linkcode StreamServer}. */
export interface StreamServerEvents {
  connection: [connection: StreamConnection, listener: string];
  close: [connection: StreamConnection, reason: Error | undefined];
  refused: [socket: Socket, listener: string];
  error: [error: Error, connection: StreamConnection | undefined];
}

const PEER_GONE = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ERR_SOCKLAB_CLOSED"]);

function isPeerGone(err: Error): boolean {
  return PEER_GONE.has((err as { code?: string }).code ?? "");
}

interface Listener {
  server: Server;
  label: string;
  local?: string;
  stop?: () => Promise<boolean>;
  /** Settles on the Node server's `close` event (after its last connection). */
  closed?: Promise<void>;
}

/**
 * A stream server for TCP and UNIX stream sockets: one handler per connection,
 * a connection limit with a clear refusal, idle timeouts, and graceful close
 * (stop accepting, let handlers finish within a grace period, then close).
 * Listens on any number of addresses at once (`localhost` is `::1` and `127.0.0.1`).
 *
 * @example
 * ```ts
 * import { StreamServer } from "@socklab/core";
 * const server = new StreamServer(async (conn) => {
 *   for await (const chunk of conn) await conn.write(chunk);
 * });
 * await server.listen({ host: "127.0.0.1", port: 0 });
 * await server.close();
 * ```
 */
export class StreamServer extends EventEmitter<StreamServerEvents> {
  readonly #handler: ConnectionHandler;
  readonly #options: StreamServerOptions;
  readonly #listeners: Listener[] = [];
  readonly #connections = new Map<StreamConnection, Promise<void>>();
  readonly #closing = new AbortController();
  readonly #stats: StreamServerStats = { accepted: 0, refused: 0, active: 0, failed: 0 };
  readonly #failures = new WeakMap<StreamConnection, Error>();

  /**
   * @param handler Serves each connection.
   * @param options Limits and timeouts.
   */
  constructor(handler: ConnectionHandler, options: StreamServerOptions = {}) {
    super();
    this.#handler = handler;
    this.#options = options;
  }

  /** Counters since start. */
  get stats(): Readonly<StreamServerStats> {
    return { ...this.#stats, active: this.#connections.size };
  }

  /** The connections open now. */
  get connections(): StreamConnection[] {
    return [...this.#connections.keys()];
  }

  /** The Node servers, one per listening address. */
  get servers(): Server[] {
    return this.#listeners.map((l) => l.server);
  }

  /** Whether {@linkcode close} has begun. */
  get closing(): boolean {
    return this.#closing.signal.aborted;
  }

  /**
   * Listens on one more address, through core's one server-socket lifecycle
   * ({@linkcode listenStream}): a UNIX socket file is born with its mode, a live
   * or foreign path is refused, and {@linkcode close} removes only our own file.
   *
   * @param target `{ host, port }` (a literal; port 0: the system picks) or `{ path, abstract, mode }`.
   * @param local The local address to report for connections (UNIX listeners: the path).
   * @returns The listener: the Node server, its label (`127.0.0.1:50000`, `/tmp/s`), its socket file.
   * @throws {SocketError} with one line, such as `Cannot bind "127.0.0.1:50000": address already in use`.
   */
  async listen(target: StreamTarget, local?: string): Promise<StreamListener> {
    const server = new Server({ allowHalfOpen: true, noDelay: this.#options.noDelay ?? true });
    const entry: Listener = {
      server,
      label:
        "path" in target
          ? `${target.abstract ? "@" : ""}${target.path}`
          : formatHostPort(target.host, target.port),
      ...(local === undefined ? {} : { local }),
    };
    // Before binding: a client may connect the moment the socket listens.
    server.on("connection", (socket) => this.#accept(socket, entry));
    const listener = await listenStream(server, target);
    entry.label = listener.label;
    entry.stop = listener.stop;
    // Errors after listening (EMFILE on accept) must not crash the process.
    server.on(
      "error",
      (err) =>
        this.listenerCount("error") > 0 &&
        this.emit(
          "error",
          toSocketError(err, { action: "accept on", address: entry.label }),
          undefined,
        ),
    );
    this.#listeners.push(entry);
    entry.closed = new Promise((resolve) =>
      server.once("close", () => {
        // A listener closed alone (a port-0 retry) is forgotten; close() waits for the rest.
        const at = this.#listeners.indexOf(entry);
        if (at >= 0 && !this.closing) this.#listeners.splice(at, 1);
        resolve();
      }),
    );
    return listener;
  }

  #accept(socket: Socket, listener: Listener): void {
    if (
      this.closing ||
      (this.#options.maxConnections !== undefined &&
        this.#connections.size >= this.#options.maxConnections)
    ) {
      this.#stats.refused += 1;
      this.emit("refused", socket, listener.label);
      refuseConnection(socket, this.closing ? undefined : this.#options.onRefused?.(socket));
      return;
    }
    this.#stats.accepted += 1;
    const connection = new StreamConnection(socket, {
      ...(this.#options.maxBuffered === undefined
        ? {}
        : { maxBuffered: this.#options.maxBuffered }),
      ...(listener.local === undefined ? {} : { local: listener.local }),
    });
    if (this.#options.idleTimeoutMs !== undefined)
      connection.setIdleTimeout(this.#options.idleTimeoutMs);
    this.emit("connection", connection, listener.label);
    const served = this.#serve(connection, listener.label);
    this.#connections.set(connection, served);
    void connection.closed.then(() => {
      this.#connections.delete(connection);
      this.emit("close", connection, this.#failures.get(connection));
    });
  }

  async #serve(connection: StreamConnection, listener: string): Promise<void> {
    try {
      await this.#handler(connection, { signal: this.#closing.signal, listener });
    } catch (err) {
      const reason = err instanceof Error ? err : new Error(String(err));
      this.#failures.set(connection, reason);
      connection.destroy();
      // A peer that left or went idle is a reason to close, not a server failure.
      if (!connection.ended && !isPeerGone(reason)) {
        this.#stats.failed += 1;
        if (this.listenerCount("error") > 0) this.emit("error", reason, connection);
      }
      return;
    }
    await connection.close();
  }

  /**
   * Closes gracefully: stops accepting, tells handlers through their signal,
   * waits up to `graceMs` for them to finish, then destroys what is left.
   *
   * @param options `graceMs`: how long handlers may take (default 5000).
   * @returns When every listener and connection is closed.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    const graceMs = options.graceMs ?? 5000;
    if (!this.closing) this.#closing.abort(new Error("The server is closing"));
    const listeners = [...this.#listeners];
    const stopped = Promise.all(listeners.map((l) => l.closed));
    // Stop listening at once (removing our socket files); open connections get their grace.
    await Promise.all(listeners.map((l) => l.stop?.()));
    const open = [...this.#connections.keys()];
    // Handlers that outlive the grace period lose their connection; we do not wait for them.
    await closeWithGrace(
      open.map((c) => c.closed),
      graceMs,
      () => {
        for (const connection of this.#connections.keys()) connection.destroy();
      },
    );
    await stopped;
  }
}
