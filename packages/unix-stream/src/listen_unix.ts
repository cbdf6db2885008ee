import {
  type ConnectionHandler,
  checkUnixPath,
  formatAddress,
  invalidArgument,
  type StreamListener,
  StreamServer,
  type StreamServerOptions,
  type StreamServerStats,
  setAbstractStreamBinder,
} from "@socklab/core";
import { exactAbstractStreamBinder } from "@socklab/native";
import { checkFileMode } from "./file_mode.ts";

// Abstract names (@name) bind exactly on every Node, also on Node 20 whose `net` pads them.
setAbstractStreamBinder(exactAbstractStreamBinder);

/** Options of {@linkcode listenUnix}. */
export interface ListenUnixOptions {
  /** The socket file's path, or with `abstract` a Linux abstract name (without `@`). */
  path: string;
  /** Whether `path` is a Linux abstract name: no file, gone when the server closes. */
  abstract?: boolean;
  /**
   * The socket file's permission bits; connecting needs write permission.
   * Default `0o600`: only the owner (and root) may connect. Ignored for abstract names,
   * which have no file: anyone in the network namespace may connect to those.
   */
  mode?: number;
  /** Serves each connection; the connection is closed when it returns. */
  handler: ConnectionHandler;
  /** Most connections served at once; past it new ones are refused (default: no limit). */
  maxConnections?: number;
  /** Closes a connection after this long without traffic either way (default: never). */
  idleTimeoutMs?: number;
  /** Bytes read ahead per connection before reading pauses (default 1 MiB). */
  maxBuffered?: number;
  /** The listen backlog (Node's default 511). */
  backlog?: number;
  /** What to tell a client refused over `maxConnections` before it is closed. */
  onRefused?: StreamServerOptions["onRefused"];
  /**
   * Handler failures (other than the peer leaving) and accept errors (`EMFILE`).
   * Without it they are only counted in `stats.failed`; the server keeps serving.
   */
  onError?: (error: Error) => void;
}

/**
 * A UNIX stream socket server from {@linkcode listenUnix}: serves connections on
 * a socket file it created with an explicit mode, and removes that file on close
 * (but never a file another program has since put at the path).
 *
 * @example
 * ```ts
 * import { listenUnix } from "@socklab/unix-stream";
 * const server = await listenUnix({
 *   path: "/tmp/unixsocket_tcp",
 *   handler: async (conn) => console.log((await conn.recv(256)).toString()),
 * });
 * server.address; // "unix:///tmp/unixsocket_tcp"
 * await server.close();
 * ```
 */
export class UnixStreamServer {
  /** The path as given, or the abstract name without `@`. */
  readonly path: string;
  /** Whether it listens on a Linux abstract name. */
  readonly abstract: boolean;
  /** The path as users read it: `/tmp/unixsocket_tcp`, or `@name` for an abstract name. */
  readonly label: string;
  /** The address in URI form: `unix:///tmp/unixsocket_tcp`, `unix:@name`. */
  readonly address: string;
  /** The socket file's mode; `undefined` for abstract names. */
  readonly mode: number | undefined;
  /** Whether a stale socket file (left by a server that did not clean up) was removed before bind. */
  readonly removedStale: boolean;
  /** The underlying stream server: events (`connection`, `close`, `refused`), connections. */
  readonly server: StreamServer;

  readonly #listener: StreamListener;
  #closed: Promise<boolean> | undefined;

  /** @internal Use {@linkcode listenUnix}. */
  constructor(
    init: Omit<UnixStreamServer, "stats" | "close" | "closing"> & { listener: StreamListener },
  ) {
    this.path = init.path;
    this.abstract = init.abstract;
    this.label = init.label;
    this.address = init.address;
    this.mode = init.mode;
    this.removedStale = init.removedStale;
    this.server = init.server;
    this.#listener = init.listener;
  }

  /** Counters: connections accepted, refused, active, failed. */
  get stats(): Readonly<StreamServerStats> {
    return this.server.stats;
  }

  /** Whether {@linkcode UnixStreamServer.close} has begun. */
  get closing(): boolean {
    return this.#closed !== undefined;
  }

  /**
   * Stops accepting, lets handlers finish (their signal aborts) within `graceMs`,
   * closes what is left, and removes the socket file if it is still ours.
   * Calling it again returns the same promise.
   *
   * @param options `graceMs`: how long handlers may take (default 5000).
   * @returns Whether the socket file was removed (`false` for abstract names, or
   *   when the file at the path is not ours any more: it is left as it is).
   * @example
   * ```ts
   * const removed = await server.close({ graceMs: 1000 });
   * ```
   */
  close(options: { graceMs?: number } = {}): Promise<boolean> {
    this.#closed ??= this.server.close(options).then(() => this.#listener.stop());
    return this.#closed;
  }
}

/**
 * Listens on a UNIX stream socket, safely: a stale socket file (nobody accepts
 * on it) is removed first; a socket a running program listens on is refused and
 * left working; a regular file, a directory or anything else is refused and never
 * touched; a path the kernel cannot take is refused before bind. The new socket
 * file is created with `mode` (default `0o600`) from the first moment, and
 * removed on {@linkcode UnixStreamServer.close}.
 *
 * @param options Path, mode, handler and limits.
 * @returns The listening server.
 * @throws {AddressInUseError} When a running program listens on the path (or binds it first).
 * @throws {NotASocketError} When the path is a file, directory or anything but a socket.
 * @throws {RangeError} `ERR_SOCKLAB_PATH_TOO_LONG` for a path over 107 bytes; `ERR_SOCKLAB_INVALID_MODE`.
 * @throws {SocketError} For other bind failures: `Cannot bind "/run/x.sock": permission denied`.
 * @example
 * ```ts
 * import { listenUnix } from "@socklab/unix-stream";
 * const server = await listenUnix({
 *   path: "/tmp/echo.sock",
 *   handler: async (conn) => {
 *     for await (const chunk of conn) await conn.write(chunk);
 *   },
 * });
 * if (server.removedStale) console.log(`removed stale socket file ${server.path}`);
 * ```
 */
export async function listenUnix(options: ListenUnixOptions): Promise<UnixStreamServer> {
  const { path, handler } = options;
  const abstract = options.abstract ?? false;
  const mode = options.mode ?? 0o600;
  if (typeof path !== "string") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_PATH",
      `Cannot listen on ${typeof path}: the path must be a string`,
    );
  }
  checkFileMode(mode);
  if (typeof handler !== "function") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_HANDLER",
      "Cannot listen without a handler: pass a function that serves one connection",
    );
  }
  checkUnixPath(path, abstract);

  const server = new StreamServer(handler, {
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered }),
    ...(options.onRefused === undefined ? {} : { onRefused: options.onRefused }),
  });
  // Accept errors are emitted as "error"; an EventEmitter without a listener would throw them.
  const onError = options.onError;
  server.on("error", (err) => onError?.(err));

  const label = abstract ? `@${path}` : path;
  let listener: StreamListener;
  try {
    // Core's lifecycle: stale file replaced, live or foreign path refused, file born with `mode`.
    listener = await server.listen(
      {
        path,
        abstract,
        mode,
        ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
      },
      label,
    );
  } catch (err) {
    await server.close({ graceMs: 0 });
    throw err;
  }
  return new UnixStreamServer({
    path,
    abstract,
    label,
    address: formatAddress({ transport: "unix", path, abstract }),
    mode: abstract ? undefined : mode,
    removedStale: listener.removedStale,
    server,
    listener,
  });
}
