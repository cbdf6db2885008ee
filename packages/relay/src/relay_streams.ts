/**
 * A stream relay, socat's `LISTEN,fork` to a second address: for each client,
 * one connection to the target and a copy both ways.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import {
  formatAddress,
  invalidArgument,
  type SocketAddress,
  type StreamConnection,
  type StreamServerStats,
} from "@socklab/core";
import { type CopyCounts, type CopyDirection, copyBothWays } from "./copy_both_ways.ts";
import { copyToProcess, type ProcessExit } from "./process_end.ts";
import { connectStream, listenStream } from "./stream_address.ts";
import { connectionEnd } from "./stream_ends.ts";
import type { TlsOptions } from "./tls_stream.ts";

/** One client of a relay and its connection to the target. */
export interface RelaySession {
  /** 1 for the first client, counting up. */
  readonly id: number;
  /** The client, in URI form where it has an address (`tcp://127.0.0.1:40000`), else the listening address. */
  readonly client: string;
  /** The target, in URI form. */
  readonly target: string;
  /** Bytes copied so far: `aToB` client to target, `bToA` target to client. */
  readonly counts: Readonly<CopyCounts>;
  /** With an {@linkcode ExecTarget}: the client's program's process id. */
  readonly pid?: number;
  /** With an {@linkcode ExecTarget}: how the program ended, once it has. */
  readonly exit?: ProcessExit;
}

/** A program to run for each client instead of a target address (`socat EXEC:`, `ncat -e`). */
export interface ExecTarget {
  /** The program and its arguments (see {@linkcode splitCommand}). */
  exec: readonly string[];
  /** How users read it. Default `exec:` and the argv joined by spaces. */
  name?: string;
}

/** Events of a {@linkcode StreamRelay}. */
export interface StreamRelayEvents {
  /** A client came and its target connection is open. */
  open: [session: RelaySession];
  /** A session ended: `error` says why when it did not end cleanly (unreachable target, reset, …). */
  close: [session: RelaySession, error: Error | undefined];
  /** A client was refused over `maxConnections`. */
  refused: [listener: string];
}

/** Options of {@linkcode relayStreams}. */
export interface RelayStreamsOptions {
  /** Most clients relayed at once; past it new ones are refused (default: no limit). */
  maxConnections?: number;
  /** How long connecting to the target may take, in milliseconds (default 10 000). */
  connectTimeoutMs?: number;
  /** Bytes read ahead per connection before reading pauses (default 1 MiB): the memory bound per direction. */
  maxBuffered?: number;
  /** `tls://` ends: certificates and verification (see {@linkcode listenStream}, {@linkcode connectStream}). */
  tls?: TlsOptions;
  /** A `tls://` listener without a certificate: told the throwaway one's SHA-256 fingerprint. */
  onThrowawayCertificate?: (fingerprint: string) => void;
  /** A `tls://` listener: told of each client whose handshake failed. */
  onHandshakeError?: (error: Error) => void;
  /** Sees each chunk: `aToB` from client to target, `bToA` back, with the bytes before it that way. */
  onChunk?: (
    session: RelaySession,
    direction: CopyDirection,
    chunk: Uint8Array,
    offset: number,
  ) => void;
}

/**
 * A running stream relay, from {@linkcode relayStreams}.
 *
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { relayStreams } from "@socklab/relay";
 * const relay = await relayStreams(parseAddress("tcp://127.0.0.1:0"), parseAddress("unix:///tmp/s"));
 * relay.on("close", (s, err) => console.log(s.id, s.counts, err?.message));
 * await relay.close();
 * ```
 */
export class StreamRelay extends EventEmitter<StreamRelayEvents> {
  /** The addresses listened on, in URI form (the real port for port 0). */
  readonly addresses: readonly string[];
  readonly #close: (options?: { graceMs?: number }) => Promise<void>;
  readonly #stats: () => Readonly<StreamServerStats>;

  /** @internal Use {@linkcode relayStreams}. */
  constructor(
    addresses: readonly string[],
    close: (options?: { graceMs?: number }) => Promise<void>,
    stats: () => Readonly<StreamServerStats>,
  ) {
    super();
    this.addresses = addresses;
    this.#close = close;
    this.#stats = stats;
  }

  /** Clients accepted, refused, relayed now, failed. */
  get stats(): Readonly<StreamServerStats> {
    return this.#stats();
  }

  /**
   * Stops accepting and closes every session after `graceMs` (default 0: at once).
   *
   * @param options `graceMs`: how long running sessions may go on.
   * @returns When everything is closed (and a UNIX socket file removed).
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    return this.#close({ graceMs: options.graceMs ?? 0 });
  }
}

/**
 * Listens on one stream address and relays every client to another, like
 * `socat TCP-LISTEN:…,fork UNIX-CONNECT:…`: for each client a new connection
 * to the target, then {@linkcode copyBothWays} (backpressure each way, a
 * half-close passed on in each direction, byte counts). A target that cannot
 * be reached, or a session that fails, closes that client only; the relay
 * goes on serving the others.
 *
 * @param from Where to listen: `tcp` or `unix`.
 * @param to Where each client goes: `tcp` or `unix`, or a program each client
 * gets its own copy of ({@linkcode copyToProcess}: its stdin and stdout, killed
 * when the client goes away, its exit in the session).
 * @param options Connection limit, connect timeout, read-ahead, a hook for every chunk.
 * @returns The relay, listening.
 * @throws {TypeError} `ERR_SOCKLAB_NOT_A_STREAM` when either address is a datagram address.
 * @throws {AddressInUseError} and the other errors of listening.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { relayStreams } from "@socklab/relay";
 * const relay = await relayStreams(parseAddress("tcp://127.0.0.1:8080"), parseAddress("unix:///run/app.sock"));
 * relay.on("close", (s) => console.log(`${s.client}: ${s.counts.aToB} bytes in, ${s.counts.bToA} out`));
 * ```
 */
export async function relayStreams(
  from: SocketAddress,
  to: SocketAddress | ExecTarget,
  options: RelayStreamsOptions = {},
): Promise<StreamRelay> {
  if ("exec" in to) return relayToProcesses(from, to, options);
  const target = formatAddress(to);
  if (to.transport === "udp" || to.transport === "unixgram") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_NOT_A_STREAM",
      `Cannot relay streams to "${target}": it is a datagram address`,
    );
  }
  let nextId = 1;
  const onChunk = options.onChunk;
  const serve = async (
    relay: StreamRelay,
    client: StreamConnection,
    signal: AbortSignal,
  ): Promise<void> => {
    const session = {
      id: nextId++,
      client: clientName(client, from),
      target,
      counts: { aToB: 0, bToA: 0 } as CopyCounts,
    };
    let upstream: StreamConnection;
    try {
      upstream = await connectStream(to, {
        signal,
        ...(options.connectTimeoutMs === undefined ? {} : { timeoutMs: options.connectTimeoutMs }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
    } catch (err) {
      relay.emit("close", session, err as Error);
      return;
    }
    relay.emit("open", session);
    const copy = copyBothWays(
      connectionEnd(client, session.client),
      connectionEnd(upstream, target),
      {
        ...(onChunk === undefined
          ? {}
          : { onChunk: (direction, chunk, offset) => onChunk(session, direction, chunk, offset) }),
      },
    );
    session.counts = copy.counts;
    const stop = (): void => copy.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      await copy.done;
      relay.emit("close", session, undefined);
    } catch (err) {
      relay.emit("close", session, err as Error);
    } finally {
      signal.removeEventListener("abort", stop);
    }
  };
  return listenRelay(from, options, serve);
}

async function relayToProcesses(
  from: SocketAddress,
  to: ExecTarget,
  options: RelayStreamsOptions,
): Promise<StreamRelay> {
  const target = to.name ?? `exec:${to.exec.join(" ")}`;
  let nextId = 1;
  const onChunk = options.onChunk;
  const serve = async (
    relay: StreamRelay,
    client: StreamConnection,
    signal: AbortSignal,
  ): Promise<void> => {
    const session: { -readonly [K in keyof RelaySession]: RelaySession[K] } = {
      id: nextId++,
      client: clientName(client, from),
      target,
      counts: { aToB: 0, bToA: 0 },
    };
    let run: Awaited<ReturnType<typeof copyToProcess>>;
    try {
      run = await copyToProcess(connectionEnd(client, session.client), to.exec, {
        name: target,
        ...(onChunk === undefined
          ? {}
          : { onChunk: (direction, chunk, offset) => onChunk(session, direction, chunk, offset) }),
      });
    } catch (err) {
      relay.emit("close", session, err as Error);
      return;
    }
    session.pid = run.process.pid;
    session.counts = run.copy.counts;
    relay.emit("open", session);
    const stop = (): void => run.copy.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      const { exit, error } = await run.done;
      session.exit = exit;
      relay.emit("close", session, error);
    } finally {
      signal.removeEventListener("abort", stop);
    }
  };
  return listenRelay(from, options, serve);
}

/** Listens for a relay: each client goes to `serve`, which emits on the relay. */
async function listenRelay(
  from: SocketAddress,
  options: RelayStreamsOptions,
  serve: (relay: StreamRelay, client: StreamConnection, signal: AbortSignal) => Promise<void>,
): Promise<StreamRelay> {
  let relay!: StreamRelay;
  const listener = await listenStream(from, (client, { signal }) => serve(relay, client, signal), {
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.onThrowawayCertificate === undefined
      ? {}
      : { onThrowawayCertificate: options.onThrowawayCertificate }),
    ...(options.onHandshakeError === undefined
      ? {}
      : { onHandshakeError: options.onHandshakeError }),
  });
  relay = new StreamRelay(
    listener.addresses,
    (o) => listener.close(o),
    () => listener.server.stats,
  );
  listener.server.on("refused", (_socket, label) => relay.emit("refused", label));
  return relay;
}

function clientName(conn: StreamConnection, listening: SocketAddress): string {
  const remote = conn.remoteAddress;
  if (remote !== undefined) {
    return formatAddress({ transport: "tcp", host: remote.address, port: remote.port });
  }
  return formatAddress(listening);
}
