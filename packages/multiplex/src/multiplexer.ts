import { EventEmitter } from "node:events";
import { Server, type Socket } from "node:net";
import {
  bindOnOnePort,
  busyMessage,
  closeWithGrace,
  type DropCounts,
  dropLine,
  formatAddress,
  formatHostPort,
  type IpFamilyChoice,
  listenStream,
  planListen,
  refuseConnection,
  reportDrops,
  type StreamListener,
  type StreamTarget,
  setAbstractStreamBinder,
  toSocketError,
} from "@socklab/core";
import { exactAbstractStreamBinder } from "@socklab/native";
import { type ConnectionInfo, MuxConnection, type StreamTransport } from "./mux_connection.ts";

// Abstract names (@name) bind exactly on every Node, also on Node 20 whose `net` pads them.
setAbstractStreamBinder(exactAbstractStreamBinder);

/** Every transport a multiplexer serves. */
export type MuxTransport = "tcp" | "udp" | "unix" | "unixgram";

/** A datagram that arrived, with a way to answer its sender. */
export interface MuxDatagram {
  transport: "udp" | "unixgram";
  data: Buffer;
  /** The sender as users read it (`127.0.0.1:40390`, a socket path), or `undefined` for an unbound UNIX sender. */
  from: string | undefined;
  /** The endpoint it arrived on (URI). */
  local: string;
  /** Whether the datagram may have been cut by the receive buffer. */
  truncated: boolean;
  /** Sends a datagram back to the sender; rejects with one clear line when that is impossible. */
  reply(data: Uint8Array): Promise<void>;
}

/**
 * A datagram socket the multiplexer can serve: `@socklab/udp` and
 * `@socklab/unix-dgram` sockets are adapted to this shape.
 */
export interface DatagramEndpoint {
  transport: "udp" | "unixgram";
  /** URIs it is bound to. */
  addresses: readonly string[];
  /** Starts delivering datagrams to `onDatagram` until closed. */
  start(onDatagram: (datagram: MuxDatagram) => void, onError: (error: Error) => void): void;
  /** Replies dropped (bounded queue full) and failed, for endpoints whose replies never wait. */
  replyStats?(): DropCounts;
  /** Most replies that may wait at once (the bounded queue). */
  maxQueuedReplies?: number;
  /** The latest reply failure, for the summary line. */
  lastReplyError?(): Error | undefined;
  close(): Promise<void>;
}

/** What a multiplexer does with connections and datagrams: echo, chat, or your own. */
export interface MuxHandler {
  /** A stream connection opened. */
  open?(connection: MuxConnection): void;
  /** Bytes arrived on a stream connection. */
  data?(connection: MuxConnection, chunk: Buffer): void;
  /** The peer half-closed (sent FIN). By default our side ends too, after flushing. */
  end?(connection: MuxConnection): void;
  /** A stream connection closed. */
  close?(connection: MuxConnection, reason: string): void;
  /** A datagram arrived (UDP or UNIX datagram). */
  datagram?(datagram: MuxDatagram): void;
  /** The multiplexer started shutting down: finish what is in flight. */
  shutdown?(): void;
}

/** Options of a {@linkcode Multiplexer}. */
export interface MultiplexerOptions {
  /** Nothing happened for this long → an `idle` event (the tutorial's select() timeout: 5 s). 0 turns it off. */
  idleTickMs?: number;
  /** Closes a stream connection after this long without traffic (default: never). */
  connectionIdleTimeoutMs?: number;
  /** Most stream connections at once, over all transports; past it new ones are refused. */
  maxConnections?: number;
  /** What a refused client reads before the connection closes. */
  refusalMessage?: (limit: number) => string;
}

/** Counters of one transport. */
export interface TransportStats {
  /** Connections open now (stream transports). */
  open: number;
  /** Connections accepted since start (stream), or datagrams received (datagram transports). */
  total: number;
  /** Connections refused over the limit. */
  refused: number;
  /** Datagram replies dropped because a receiver did not read (a bounded queue was full). */
  dropped: number;
  bytesIn: number;
  bytesOut: number;
}

/** Events of a {@linkcode Multiplexer}, for logging and tests. */
export interface MultiplexerEvents {
  open: [connection: MuxConnection];
  close: [connection: MuxConnection, reason: string];
  datagram: [datagram: MuxDatagram];
  refused: [transport: StreamTransport, peer: string];
  /**
   * Once per second while replies are dropped or fail: how many, and one line
   * saying so; then once with zero growth when they stopped.
   */
  dropped: [transport: "udp" | "unixgram", growth: DropCounts, line: string];
  idle: [idleMs: number];
  error: [error: Error];
}

interface MuxListener {
  transport: StreamTransport;
  listener: StreamListener;
  address: string;
  closed: Promise<void>;
}

const CONNECTION = Symbol("socklab.multiplex.connection");
type SocketWithConnection = Socket & { [CONNECTION]: MuxConnection };

function connectionOf(socket: Socket): MuxConnection {
  return (socket as SocketWithConnection)[CONNECTION];
}

const CLOSE_REASONS: Record<string, string> = {
  ECONNRESET: "reset by peer",
  EPIPE: "peer stopped reading (broken pipe)",
  ETIMEDOUT: "timed out",
};

/**
 * One event loop serving listeners of all four transports — TCP, UDP, UNIX
 * stream and UNIX datagram — through one handler (tutorial 3.4, without
 * `select()`'s 1,024-descriptor limit). Keeps a registry of open connections,
 * counts bytes per transport, ticks when idle, refuses past a connection
 * limit, and shuts down gracefully (socket files removed).
 *
 * @example
 * ```ts
 * import { echo, Multiplexer } from "@socklab/multiplex";
 * const mux = new Multiplexer(echo());
 * await mux.listenTcp({ host: "localhost", port: 0 });
 * await mux.close();
 * ```
 */
export class Multiplexer extends EventEmitter<MultiplexerEvents> {
  readonly #handler: MuxHandler;
  readonly #options: MultiplexerOptions;
  readonly #listeners: MuxListener[] = [];
  readonly #endpoints: DatagramEndpoint[] = [];
  readonly #connections = new Map<number, MuxConnection>();
  readonly #stats: Record<MuxTransport, TransportStats> = {
    tcp: emptyStats(),
    udp: emptyStats(),
    unix: emptyStats(),
    unixgram: emptyStats(),
  };
  #nextId = 1;
  /** One set of socket listeners for every connection (`this` is the socket), not four closures each. */
  readonly #events: {
    data: (this: Socket, chunk: Buffer) => void;
    end: (this: Socket) => void;
    error: (this: Socket, err: NodeJS.ErrnoException) => void;
    close: (this: Socket) => void;
    timeout: (this: Socket) => void;
  };
  #lastActivity = Date.now();
  #idleTimer: NodeJS.Timeout | undefined;
  #closing = false;
  readonly #stopDropReports: (() => void)[] = [];

  /**
   * @param handler What to do with connections and datagrams.
   * @param options Limits and timeouts.
   */
  constructor(handler: MuxHandler, options: MultiplexerOptions = {}) {
    super();
    this.#handler = handler;
    this.#options = options;
    const mux = this;
    this.#events = {
      data(chunk) {
        mux.#lastActivity = Date.now();
        mux.#handler.data?.(connectionOf(this), chunk);
      },
      end() {
        mux.#lastActivity = Date.now();
        const connection = connectionOf(this);
        if (mux.#handler.end) mux.#handler.end(connection);
        else connection.end();
      },
      error(err) {
        connectionOf(this).closeReason ??= CLOSE_REASONS[err.code ?? ""] ?? err.message;
      },
      close() {
        mux.#lastActivity = Date.now();
        const connection = connectionOf(this);
        mux.#connections.delete(connection.id);
        const stats = mux.#stats[connection.transport];
        stats.open -= 1;
        stats.bytesIn += connection.bytesIn;
        stats.bytesOut += connection.bytesOut;
        const reason = connection.closeReason ?? "closed by peer";
        mux.emit("close", connection, reason);
        mux.#handler.close?.(connection, reason);
      },
      timeout() {
        connectionOf(this).close(`idle for ${mux.#options.connectionIdleTimeoutMs} ms`);
      },
    };
    this.#armIdle(options.idleTickMs ?? 5000);
  }

  /** Every bound address, as URIs. */
  get addresses(): string[] {
    return [
      ...this.#listeners.map((l) => l.address),
      ...this.#endpoints.flatMap((e) => e.addresses),
    ];
  }

  /**
   * The registry of open stream connections (the tutorial's `rlist`).
   *
   * @returns One snapshot per connection, oldest first.
   */
  connections(): ConnectionInfo[] {
    const now = Date.now();
    return [...this.#connections.values()].map((c) => c.info(now));
  }

  /**
   * Counters per transport: open and total connections, refusals, bytes in and out.
   *
   * @returns A snapshot.
   */
  stats(): Record<MuxTransport, TransportStats> {
    const snapshot = structuredClone(this.#stats);
    for (const e of this.#endpoints) {
      if (e.replyStats !== undefined) snapshot[e.transport].dropped += e.replyStats().dropped;
    }
    for (const c of this.#connections.values()) {
      snapshot[c.transport].bytesIn += c.bytesIn;
      snapshot[c.transport].bytesOut += c.bytesOut;
    }
    return snapshot;
  }

  /**
   * Serves TCP on every address of a host (`localhost`: `::1` and `127.0.0.1`) on one port.
   *
   * @param options Host, port (0: the system picks), IP family, backlog.
   * @returns The bound addresses, as URIs with the real port.
   * @throws {SocketError} one line, such as `Cannot bind "127.0.0.1:50000": address already in use`.
   */
  async listenTcp(options: {
    host: string;
    port: number;
    family?: IpFamilyChoice;
    backlog?: number;
  }): Promise<string[]> {
    const plans = await planListen(options.host, options.family);
    const bound = await bindOnOnePort(
      plans,
      options.port,
      async (plan, port) => {
        const listener = await this.#listen(
          { host: plan.address, port, ipv6Only: !plan.dual, backlog: options.backlog ?? 511 },
          "tcp",
        );
        return { handle: listener, port: (listener.server.address() as { port: number }).port };
      },
      (listener) => listener.stop().then(() => undefined),
    );
    return bound.map((listener) => {
      const { address, port } = listener.server.address() as { address: string; port: number };
      const uri = formatAddress({ transport: "tcp", host: address, port });
      this.#listeners.push({
        transport: "tcp",
        listener,
        address: uri,
        closed: new Promise((resolve) => listener.server.once("close", resolve)),
      });
      return uri;
    });
  }

  /**
   * Serves a UNIX stream socket: a stale socket file is removed first, a live one
   * refused, anything else never touched; the file gets `mode` and is removed on close.
   *
   * @param options The path (or an abstract name) and the file mode (default 0o600).
   * @returns The URI.
   */
  async listenUnix(options: { path: string; abstract?: boolean; mode?: number }): Promise<string> {
    const abstract = options.abstract ?? false;
    const listener = await this.#listen(
      { path: options.path, abstract, mode: options.mode ?? 0o600 },
      "unix",
      abstract ? `@${options.path}` : options.path,
    );
    const uri = formatAddress({ transport: "unix", path: options.path, abstract });
    this.#listeners.push({
      transport: "unix",
      listener,
      address: uri,
      closed: new Promise((resolve) => listener.server.once("close", resolve)),
    });
    return uri;
  }

  /**
   * Serves a datagram endpoint (a bound `@socklab/udp` or `@socklab/unix-dgram` socket, adapted).
   *
   * @param endpoint The endpoint.
   * @returns Its addresses.
   */
  addDatagramEndpoint(endpoint: DatagramEndpoint): readonly string[] {
    this.#endpoints.push(endpoint);
    const replyStats = endpoint.replyStats;
    if (replyStats !== undefined) {
      this.#stopDropReports.push(
        reportDrops(replyStats, (growth, totals) =>
          this.emit(
            "dropped",
            endpoint.transport,
            growth,
            `${endpoint.addresses[0] ?? endpoint.transport}: ${dropLine(growth, endpoint.maxQueuedReplies ?? 0, endpoint.lastReplyError?.(), totals)}`,
          ),
        ),
      );
    }
    endpoint.start(
      (datagram) => {
        this.#lastActivity = Date.now();
        const stats = this.#stats[datagram.transport];
        stats.total += 1;
        stats.bytesIn += datagram.data.length;
        const reply = datagram.reply;
        datagram.reply = async (data) => {
          await reply(data);
          stats.bytesOut += data.length;
        };
        this.emit("datagram", datagram);
        this.#handler.datagram?.(datagram);
      },
      (error) => this.#error(error),
    );
    return endpoint.addresses;
  }

  /**
   * Binds through core's lifecycle. The connection listener is attached before
   * binding: a client that connects while the server starts is served, not
   * left accepted and unanswered.
   */
  async #listen(
    target: StreamTarget,
    transport: StreamTransport,
    local?: string,
  ): Promise<StreamListener> {
    const server = new Server({ allowHalfOpen: true, noDelay: true });
    let label = local ?? "";
    server.on("connection", (socket) => this.#accept(socket, transport, label));
    const listener = await listenStream(server, target);
    label = listener.label;
    server.on("error", (err) =>
      this.#error(toSocketError(err, { action: "accept on", address: listener.label })),
    );
    return listener;
  }

  #accept(socket: Socket, transport: StreamTransport, local: string): void {
    this.#lastActivity = Date.now();
    const peer =
      transport === "tcp" && socket.remoteAddress !== undefined
        ? formatHostPort(socket.remoteAddress, socket.remotePort ?? 0)
        : "unnamed";
    const limit = this.#options.maxConnections;
    if (this.#closing || (limit !== undefined && this.#connections.size >= limit)) {
      this.#stats[transport].refused += 1;
      this.emit("refused", transport, peer);
      refuseConnection(
        socket,
        this.#closing || limit === undefined
          ? undefined
          : (this.#options.refusalMessage?.(limit) ?? busyMessage(limit)),
      );
      return;
    }
    const connection = new MuxConnection(this.#nextId++, transport, socket, peer, local);
    this.#connections.set(connection.id, connection);
    this.#stats[transport].total += 1;
    this.#stats[transport].open += 1;
    if (this.#options.connectionIdleTimeoutMs !== undefined) {
      socket.setTimeout(this.#options.connectionIdleTimeoutMs, this.#events.timeout);
    }
    (socket as SocketWithConnection)[CONNECTION] = connection;
    socket.on("data", this.#events.data);
    socket.on("end", this.#events.end);
    socket.on("error", this.#events.error);
    socket.on("close", this.#events.close);
    this.emit("open", connection);
    this.#handler.open?.(connection);
  }

  #armIdle(tickMs: number): void {
    if (tickMs <= 0) return;
    const check = (): void => {
      const idle = Date.now() - this.#lastActivity;
      if (idle >= tickMs) {
        this.emit("idle", idle);
        this.#lastActivity = Date.now();
        this.#idleTimer = setTimeout(check, tickMs);
      } else {
        this.#idleTimer = setTimeout(check, tickMs - idle);
      }
      this.#idleTimer.unref();
    };
    this.#idleTimer = setTimeout(check, tickMs);
    this.#idleTimer.unref();
  }

  #error(error: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }

  /**
   * Shuts down gracefully: stops accepting, lets every connection flush and
   * half-close, waits up to `graceMs` for peers to close, then closes the rest;
   * closes datagram endpoints and removes UNIX socket files.
   *
   * @param options `graceMs` (default 2000).
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#idleTimer);
    this.#handler.shutdown?.();
    // Stop listening at once; our socket files go, a foreign file at the path stays.
    await Promise.all(this.#listeners.map((l) => l.listener.stop()));
    const open = [...this.#connections.values()];
    for (const c of open) {
      c.closeReason ??= "server shutting down";
      // A handed-off connection is closed by its handler, which the shutdown hook told to finish.
      if (!c.handedOff) c.end();
    }
    await closeWithGrace(
      open.map((c) =>
        c.socket.closed ? undefined : new Promise((r) => c.socket.once("close", r)),
      ) as Promise<unknown>[],
      options.graceMs ?? 2000,
      () => {
        for (const c of this.#connections.values()) c.socket.destroy();
      },
    );
    for (const stop of this.#stopDropReports) stop();
    await Promise.all([
      ...this.#listeners.map((l) => l.closed),
      ...this.#endpoints.map((e) => e.close()),
    ]);
  }
}

function emptyStats(): TransportStats {
  return { open: 0, total: 0, refused: 0, dropped: 0, bytesIn: 0, bytesOut: 0 };
}
