import type dgram from "node:dgram";
import { isIPv4 } from "node:net";
import {
  ClosedError,
  formatAddress,
  formatHostPort,
  invalidArgument,
  type ResolvedAddress,
  SocketError,
  type SocklabError,
  TimeoutError,
  toSocketError,
} from "@socklab/core";
import {
  type BindPlan,
  bindAll,
  bindOne,
  bindPlans,
  type SocketSettings,
  type UdpFamily,
} from "./_bind.ts";
import { DatagramQueue } from "./_datagram_queue.ts";
import {
  canonicalIpv6,
  parseDestination,
  resolveDestinationHost,
  type UdpDestination,
} from "./_destination.ts";
import { checkUdpPayload } from "./datagram_size.ts";
import { findUdpInode, readUdpDrops } from "./kernel_drops.ts";

export type { UdpFamily } from "./_bind.ts";
export type { UdpDestination } from "./_destination.ts";

/** A UDP address: where a datagram came from, or where a socket is bound. */
export interface UdpEndpoint {
  /** A literal address; IPv4 senders on a dual-stack socket are shown as IPv4 (`127.0.0.1`, not `::ffff:127.0.0.1`). */
  readonly host: string;
  readonly port: number;
  /** 4 or 6. */
  readonly family: 4 | 6;
}

/** One received datagram, whole. */
export interface UdpDatagram {
  /** The payload, as sent: never cut (UDP payloads are at most 65,527 bytes and Node receives up to 64 KiB). */
  readonly data: Buffer;
  /** The sender. */
  readonly from: UdpEndpoint;
  /** The local address it arrived on, in URI form (`udp://127.0.0.1:50000`); {@linkcode UdpSocket.reply} answers from there. */
  readonly local: string;
}

/** Options for {@linkcode createUdpSocket}. */
export interface UdpSocketOptions {
  /**
   * The local host to bind. `"localhost"` binds `::1` and `127.0.0.1` (two sockets,
   * one port); `""` or `"::"` one dual-stack socket on all interfaces; `"0.0.0.0"`
   * all IPv4 interfaces. Default `"localhost"`, or for a connected socket the
   * wildcard of the peer's family (the system picks the source address).
   */
  host?: string;
  /** The local port; 0 (the default) lets the system pick. */
  port?: number;
  /** Restrict to IPv4 or IPv6; `"dual"` (default) uses every address the host has. */
  family?: UdpFamily;
  /**
   * Connect to one peer: `send()` takes no destination, only datagrams from the
   * peer arrive, and the kernel's "port unreachable" is reported as a
   * {@linkcode SocketError} with code `ECONNREFUSED`. A name with several
   * addresses (`localhost`) is tried in order: see {@linkcode UdpSocketOptions.probeMs}.
   */
  connect?: UdpDestination;
  /**
   * Connected sockets only: how long the first datagram waits for a "port
   * unreachable" before the peer counts as there (on loopback it comes back in
   * well under a millisecond; a reply ends the wait at once). A refused first
   * datagram is sent again to the peer's next address. 0 turns probing off.
   * Default 50 ms.
   */
  probeMs?: number;
  /** Datagrams kept for a reader that is behind; newer ones are dropped and counted. Default 4096. */
  maxQueued?: number;
  /** Payload bytes kept for a reader that is behind. Default 16 MiB. */
  maxQueuedBytes?: number;
  /** SO_RCVBUF to ask for, so bursts wait in the kernel (capped by net.core.rmem_max); 0 keeps the system default. Default 1 MiB. */
  recvBufferSize?: number;
  /** SO_SNDBUF to ask for; 0 (default) keeps the system default. */
  sendBufferSize?: number;
}

/** Options for {@linkcode UdpSocket.receive}. */
export interface UdpReceiveOptions {
  /** Reject with a {@linkcode TimeoutError} when nothing arrives in this many milliseconds. */
  timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal;
}

/** Options for {@linkcode UdpSocket.request}. */
export interface UdpRequestOptions {
  /** How long each attempt waits for the reply, in milliseconds. Default 1000. */
  timeoutMs?: number;
  /** How often to send again when no reply comes. Default 2 (three attempts). */
  retries?: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal;
  /** Accept only replies this returns `true` for (a protocol's request id); others stay for the iterator. */
  match?: (datagram: UdpDatagram) => boolean;
}

/** What {@linkcode UdpSocket.request} got. */
export interface UdpReply {
  /** The reply. */
  reply: UdpDatagram;
  /** Datagrams sent for it: 1 when the first was answered. */
  attempts: number;
  /** Attempts before the answered one: lost on the way there, on the way back, or answered too late. */
  lost: number;
}

/** Counters of a {@linkcode UdpSocket}. */
export interface UdpStats {
  /** Datagrams the system accepted for sending. */
  datagramsSent: number;
  bytesSent: number;
  /** Datagrams that arrived, including dropped ones. */
  datagramsReceived: number;
  bytesReceived: number;
  /** Datagrams that could not be sent: too large, or a system error. */
  failed: number;
  /** "Port unreachable" reports from the kernel (connected sockets): datagrams nobody received. */
  refused: number;
  /** Datagrams that arrived while the queue for a slow reader was full, and were discarded. */
  dropped: number;
  /**
   * Datagrams the system dropped before this socket could read them (its
   * receive buffer was full), as Linux counts them in `/proc/net/udp`; not in
   * `datagramsReceived`. `undefined` where the system does not tell.
   */
  kernelDropped: number | undefined;
}

/** One bound `node:dgram` socket. */
interface End {
  readonly socket: dgram.Socket;
  readonly family: 4 | 6;
  /** Carries IPv4 as `::ffff:a.b.c.d`. */
  readonly dual: boolean;
  readonly host: string;
  readonly port: number;
  /** URI form: `udp://127.0.0.1:50000`. */
  readonly local: string;
}

/** The peer of a connected socket. */
interface Peer {
  /** As the user wrote it: `localhost:50000`. */
  readonly label: string;
  readonly port: number;
  readonly candidates: readonly ResolvedAddress[];
  /** The candidate the socket is connected to. */
  index: number;
  /** A first datagram went out and was not refused. */
  settled: boolean;
  /** The first send, while it probes; later sends wait for it. */
  settling: Promise<void> | undefined;
}

/** The first datagram on a connected socket, waiting for a refusal or an answer. */
interface Probe {
  readonly end: End;
  refused(err: unknown): void;
  answered(): void;
}

interface ReceiveWaiter {
  resolve(datagram: UdpDatagram | undefined): void;
  reject(err: unknown): void;
}

interface RequestWaiter {
  accepts(datagram: UdpDatagram): boolean;
  resolve(datagram: UdpDatagram): void;
  reject(err: unknown): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const DEFAULTS = {
  probeMs: 50,
  maxQueued: 4096,
  maxQueuedBytes: 16 * 1024 * 1024,
  recvBufferSize: 1024 * 1024,
  sendBufferSize: 0,
  timeoutMs: 1000,
  retries: 2,
} as const;

/**
 * Opens a UDP socket: bound for a server (`localhost` binds `::1` and
 * `127.0.0.1` on one port), or connected to one peer for a client.
 *
 * @param options Where to bind, whom to connect, queue and buffer sizes.
 * @returns The bound (and connected) socket.
 * @throws {AddressInUseError} when the port is taken; {@linkcode SocketError} for other bind or connect failures;
 *   {@linkcode AddressError} for a host that does not resolve; `RangeError`/`TypeError` for bad options.
 * @example
 * ```ts
 * import { createUdpSocket } from "@socklab/udp";
 *
 * const server = await createUdpSocket({ host: "localhost", port: 0 });
 * const client = await createUdpSocket({ connect: { host: "127.0.0.1", port: server.port } });
 * await client.send("111111111111111111");
 * for await (const { data, from } of server) {
 *   console.log(`${data} from ${from.host}:${from.port}`);
 *   break;
 * }
 * await client.close();
 * await server.close();
 * ```
 */
export async function createUdpSocket(options: UdpSocketOptions = {}): Promise<UdpSocket> {
  const family = options.family ?? "dual";
  const port = checkPort(options.port ?? 0);
  const settings: SocketSettings = {
    recvBufferSize: checkCount(
      "recvBufferSize",
      options.recvBufferSize ?? DEFAULTS.recvBufferSize,
      0,
    ),
    sendBufferSize: checkCount(
      "sendBufferSize",
      options.sendBufferSize ?? DEFAULTS.sendBufferSize,
      0,
    ),
  };
  const tuning = {
    maxQueued: checkCount("maxQueued", options.maxQueued ?? DEFAULTS.maxQueued, 1),
    maxQueuedBytes: checkCount(
      "maxQueuedBytes",
      options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      1,
    ),
    probeMs: checkCount("probeMs", options.probeMs ?? DEFAULTS.probeMs, 0, MAX_TIMEOUT_MS),
    settings,
  };
  if (options.connect === undefined) {
    const plans = await bindPlans(options.host ?? "localhost", family);
    const sockets = await bindAll(plans, port, settings);
    return new UdpSocket(
      INTERNAL,
      sockets.map((s, i) => makeEnd(s, plans[i]!)),
      undefined,
      tuning,
    );
  }
  const destination = parseDestination(options.connect);
  const wanted = family === "ipv4" ? 4 : family === "ipv6" ? 6 : undefined;
  let candidates = await resolveDestinationHost(destination.host, wanted);
  let localPlans: BindPlan[] | undefined;
  if (options.host !== undefined) {
    localPlans = await bindPlans(options.host, family);
    const families = new Set(localPlans.map((p) => p.family));
    candidates = candidates.filter(
      (c) => families.has(c.family) || localPlans!.some((p) => p.dual),
    );
    if (candidates.length === 0) {
      throw new SocketError(
        `Cannot connect to "${destination.label}" from "${options.host}": they have no IP version in common`,
        {
          code: "EAFNOSUPPORT",
          address: destination.label,
        },
      );
    }
  }
  const peer: Peer = {
    label: destination.label,
    port: destination.port,
    candidates,
    index: 0,
    settled: tuning.probeMs === 0,
    settling: undefined,
  };
  const end = await openConnected(peer, 0, localPlans, port, settings);
  return new UdpSocket(INTERNAL, [end], peer, { ...tuning, localPlans, localPort: port });
}

/** Keeps the constructor for {@linkcode createUdpSocket}. */
const INTERNAL: unique symbol = Symbol("UdpSocket");

interface Tuning {
  maxQueued: number;
  maxQueuedBytes: number;
  probeMs: number;
  settings: SocketSettings;
  localPlans?: BindPlan[] | undefined;
  localPort?: number;
}

/**
 * A UDP socket, the tutorial's `SOCK_DGRAM`: receive whole datagrams by async
 * iteration, send to any address (or to the connected peer), ask and wait for an
 * answer with retries, and count what went where. Create one with
 * {@linkcode createUdpSocket}.
 *
 * Received datagrams wait in a bounded queue until read; when the reader falls
 * behind, newer datagrams are dropped and counted in `stats.dropped` rather than
 * blocking anything. Datagrams the system itself dropped, its receive buffer
 * full, are in `stats.kernelDropped` (Linux). Leaving a `for await` loop early keeps the socket open;
 * {@linkcode UdpSocket.close} ends every loop.
 *
 * @example
 * ```ts
 * import { createUdpSocket } from "@socklab/udp";
 *
 * const server = await createUdpSocket({ host: "127.0.0.1", port: 0 });
 * (async () => {
 *   for await (const datagram of server) await server.reply(datagram, datagram.data); // echo
 * })();
 * const client = await createUdpSocket({ connect: `127.0.0.1:${server.port}` });
 * const { reply, attempts } = await client.request("ping", undefined, { timeoutMs: 500, retries: 2 });
 * reply.data.toString(); // "ping"
 * ```
 */
export class UdpSocket implements AsyncIterable<UdpDatagram> {
  #ends: End[];
  #endByLocal: Map<string, End>;
  readonly #peer: Peer | undefined;
  readonly #tuning: Tuning;
  readonly #queue: DatagramQueue<UdpDatagram>;
  readonly #receivers: ReceiveWaiter[] = [];
  #listener: ((datagram: UdpDatagram) => void) | undefined;
  #listenerError: ((error: Error) => void) | undefined;
  readonly #requests = new Set<RequestWaiter>();
  #probe: Probe | undefined;
  #pendingError: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;

  #datagramsSent = 0;
  #bytesSent = 0;
  #datagramsReceived = 0;
  #bytesReceived = 0;
  #failed = 0;
  #refused = 0;
  #dropped = 0;
  /** Each end's inode in /proc/net/udp(6), once looked up; `null` when not found. */
  readonly #inodes = new Map<End, number | null>();
  /** The system's drop count as it was when the socket closed. */
  #kernelDropped: number | undefined;

  /** @internal Use {@linkcode createUdpSocket}. */
  constructor(key: typeof INTERNAL, ends: End[], peer: Peer | undefined, tuning: Tuning) {
    if (key !== INTERNAL) {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_INVALID_ARGUMENT",
        "Cannot construct a UdpSocket directly: use createUdpSocket()",
      );
    }
    this.#ends = ends;
    this.#endByLocal = new Map(ends.map((e) => [e.local, e]));
    this.#peer = peer;
    this.#tuning = tuning;
    this.#queue = new DatagramQueue(tuning.maxQueued, tuning.maxQueuedBytes);
    for (const end of ends) this.#listen(end);
  }

  /** The bound addresses in URI form, one per underlying socket: `["udp://[::1]:50000", "udp://127.0.0.1:50000"]`. */
  get local(): string[] {
    return this.#ends.map((e) => e.local);
  }

  /** The bound port (every underlying socket shares it). */
  get port(): number {
    return this.#ends[0]?.port ?? 0;
  }

  /** The connected peer as `host:port` with the address in use (`127.0.0.1:50000`); `undefined` when not connected. */
  get remote(): string | undefined {
    const peer = this.#peer;
    if (peer === undefined) return undefined;
    return formatHostPort(peer.candidates[peer.index]!.address, peer.port);
  }

  /** Whether {@linkcode UdpSocket.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A snapshot of the counters (`kernelDropped` is read from `/proc` on each call while open). */
  get stats(): UdpStats {
    return {
      datagramsSent: this.#datagramsSent,
      bytesSent: this.#bytesSent,
      datagramsReceived: this.#datagramsReceived,
      bytesReceived: this.#bytesReceived,
      failed: this.#failed,
      refused: this.#refused,
      dropped: this.#dropped,
      kernelDropped: this.#closed ? this.#kernelDropped : this.#readKernelDrops(),
    };
  }

  /**
   * Sends one datagram, whole.
   *
   * @param data The payload (strings are sent as UTF-8).
   * @param to Where to (`"host:port"`, `"udp://[::1]:53"`, `{ host, port }`); leave out on a connected socket.
   *   A name goes to its first address this socket can reach.
   * @returns Resolves once the system accepted the datagram (which says nothing about its arrival).
   * @throws {DatagramTooLargeError} over 65,507 bytes to an IPv4 peer, 65,527 to an IPv6 peer;
   *   {@linkcode SocketError} `ECONNREFUSED` when a connected peer's port is unreachable;
   *   {@linkcode ClosedError} after `close()`.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const socket = await createUdpSocket({ host: "", port: 0 });
   * await socket.send("111111111111111111", "localhost:50000");
   * await socket.close();
   * ```
   */
  async send(data: Uint8Array | string, to?: UdpDestination): Promise<void> {
    const bytes = toBytes(data);
    this.#checkUsable(to === undefined ? this.#peer?.label : describe(to));
    this.#throwPendingError();
    if (this.#peer !== undefined) {
      if (to !== undefined) throw connectedError(to, this.#peer.label);
      return this.#sendConnected(bytes);
    }
    if (to === undefined) throw noDestinationError();
    const target = await this.#target(to);
    this.#checkSize(bytes, target.family);
    return this.#sendOn(target.end, bytes, target.port, target.address, target.label);
  }

  /**
   * Answers a datagram from the local address it arrived on, with no lookup:
   * the lean path of an echo server.
   *
   * @param datagram A datagram this socket received.
   * @param data The answer.
   * @returns Resolves once the system accepted the answer.
   * @throws {DatagramTooLargeError}, {@linkcode SocketError}, {@linkcode ClosedError} as {@linkcode UdpSocket.send}.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const server = await createUdpSocket({ port: 0 });
   * for await (const datagram of server) await server.reply(datagram, datagram.data);
   * ```
   */
  reply(datagram: UdpDatagram, data: Uint8Array | string): Promise<void> {
    const bytes = toBytes(data);
    const from = datagram.from;
    const end = this.#endByLocal.get(datagram.local);
    if (this.#closed || end === undefined) {
      return Promise.reject(this.#closedError(formatHostPort(from.host, from.port)));
    }
    try {
      this.#checkSize(bytes, from.family);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#peer !== undefined)
      return this.#sendOn(end, bytes, undefined, undefined, this.#peer.label);
    const address = end.dual && from.family === 4 ? `::ffff:${from.host}` : from.host;
    return this.#sendOn(end, bytes, from.port, address, undefined, from);
  }

  /**
   * Hands each datagram to `listener` the moment it arrives, instead of queueing
   * it for iteration or `receive()`: the lean path of a busy server, with no
   * promise per datagram. Replies to `request()` are still matched first.
   *
   * @param listener Called once per datagram.
   * @param onError Gets the failures of {@linkcode UdpSocket.replyNow}.
   * @returns Stops the listener; datagrams queue for iteration again.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const server = await createUdpSocket({ port: 0 });
   * server.onDatagram((datagram) => server.replyNow(datagram, datagram.data));
   * ```
   */
  onDatagram(
    listener: (datagram: UdpDatagram) => void,
    onError?: (error: Error) => void,
  ): () => void {
    this.#listener = listener;
    this.#listenerError = onError;
    return () => {
      if (this.#listener === listener) {
        this.#listener = undefined;
        this.#listenerError = undefined;
      }
    };
  }

  /**
   * Answers a datagram like {@linkcode UdpSocket.reply}, without a promise: a
   * failure is counted in `stats.failed` and passed to the `onError` of
   * {@linkcode UdpSocket.onDatagram}. The echo path of a busy server.
   *
   * @param datagram A datagram this socket received.
   * @param data The answer.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const server = await createUdpSocket({ port: 0 });
   * server.onDatagram((datagram) => server.replyNow(datagram, datagram.data));
   * ```
   */
  replyNow(datagram: UdpDatagram, data: Uint8Array | string): void {
    const bytes = toBytes(data);
    const from = datagram.from;
    const end = this.#endByLocal.get(datagram.local);
    if (this.#closed || end === undefined) {
      this.#failed += 1;
      this.#listenerError?.(this.#closedError(formatHostPort(from.host, from.port)));
      return;
    }
    try {
      this.#checkSize(bytes, from.family); // counts its own failure
    } catch (err) {
      this.#listenerError?.(err as Error);
      return;
    }
    try {
      if (this.#peer !== undefined) end.socket.send(bytes, this.#afterReplyNow);
      else {
        const address = end.dual && from.family === 4 ? `::ffff:${from.host}` : from.host;
        end.socket.send(bytes, from.port, address, this.#afterReplyNow);
      }
    } catch (err) {
      this.#afterReplyNow(err as Error, 0);
    }
  }

  /** One callback for every `replyNow()`: counters, and failures to the listener's error handler. */
  readonly #afterReplyNow = (err: Error | null, bytes: number): void => {
    if (err) {
      this.#failed += 1;
      this.#listenerError?.(toSocketError(err, { action: "send on", address: this.#name() }));
      return;
    }
    this.#datagramsSent += 1;
    this.#bytesSent += bytes;
  };

  /**
   * Waits for the next datagram.
   *
   * @param options Timeout and abort signal.
   * @returns The datagram, or `undefined` once the socket is closed.
   * @throws {TimeoutError} when `timeoutMs` passes; {@linkcode SocketError} `ECONNREFUSED` when a connected peer refused
   *   an earlier datagram (reported once).
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const socket = await createUdpSocket({ port: 0 });
   * const datagram = await socket.receive({ timeoutMs: 1000 });
   * ```
   */
  receive(options: UdpReceiveOptions = {}): Promise<UdpDatagram | undefined> {
    if (this.#pendingError !== undefined) return Promise.reject(this.#takePendingError());
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    const timeoutMs =
      options.timeoutMs === undefined ? undefined : checkTimeout("timeoutMs", options.timeoutMs);
    const signal = options.signal;
    if (timeoutMs === undefined && signal === undefined) {
      return new Promise((resolve, reject) => {
        this.#receivers.push({ resolve, reject });
      });
    }
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const at = this.#receivers.indexOf(waiter);
        if (at >= 0) this.#receivers.splice(at, 1);
      };
      const waiter: ReceiveWaiter = {
        resolve: (d) => {
          cleanup();
          resolve(d);
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      const onAbort = (): void => waiter.reject(signal!.reason);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          waiter.reject(
            new TimeoutError(
              `Cannot receive on "${this.#name()}": nothing arrived within ${timeoutMs} ms`,
              timeoutMs,
            ),
          );
        }, timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#receivers.push(waiter);
    });
  }

  /**
   * Sends a datagram and waits for the answer from the same peer, sending again
   * when none comes in time: the usual answer to UDP's lost postcards.
   *
   * @param data The request.
   * @param to Where to; leave out on a connected socket.
   * @param options Per-attempt timeout, retries, a reply filter, an abort signal.
   * @returns The reply, how many datagrams were sent and how many of them went unanswered.
   * @throws {TimeoutError} `No reply from "127.0.0.1:9" after 3 attempts (3 datagrams lost or unanswered)`;
   *   {@linkcode SocketError} `ECONNREFUSED` when a connected peer refuses; the errors of {@linkcode UdpSocket.send}.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const client = await createUdpSocket({ connect: "localhost:50000" });
   * const { reply, attempts, lost } = await client.request("ping", undefined, { timeoutMs: 200, retries: 2 });
   * ```
   */
  async request(
    data: Uint8Array | string,
    to?: UdpDestination,
    options: UdpRequestOptions = {},
  ): Promise<UdpReply> {
    const bytes = toBytes(data);
    const timeoutMs = checkTimeout("timeoutMs", options.timeoutMs ?? DEFAULTS.timeoutMs);
    const retries = checkCount("retries", options.retries ?? DEFAULTS.retries, 0);
    const { signal, match } = options;
    signal?.throwIfAborted();
    this.#checkUsable(to === undefined ? this.#peer?.label : describe(to));
    this.#throwPendingError();
    let send: () => Promise<void>;
    let fromPeer: (d: UdpDatagram) => boolean;
    let label: string;
    if (this.#peer !== undefined && to !== undefined) throw connectedError(to, this.#peer.label);
    if (this.#peer === undefined && to === undefined) throw noDestinationError();
    if (to === undefined) {
      send = () => this.send(bytes);
      fromPeer = () => true; // the kernel lets only the connected peer through
      label = this.#peer?.label ?? "";
    } else {
      const target = await this.#target(to);
      this.#checkSize(bytes, target.family);
      send = () => this.#sendOn(target.end, bytes, target.port, target.address, target.label);
      const host = target.family === 6 ? canonicalIpv6(target.host) : target.host;
      fromPeer = (d) => d.from.port === target.port && d.from.host === host;
      label = target.label;
    }

    let settle!: { resolve: (d: UdpDatagram) => void; reject: (err: unknown) => void };
    const replied = new Promise<UdpDatagram>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const waiter: RequestWaiter = {
      accepts: match === undefined ? fromPeer : (d) => fromPeer(d) && match(d),
      resolve: settle.resolve,
      reject: settle.reject,
    };
    replied.catch(() => {});
    this.#requests.add(waiter);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (signal === undefined) return;
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      for (let attempts = 1; ; attempts++) {
        await Promise.race([send(), aborted]);
        const outcome = await Promise.race([
          replied,
          aborted,
          new Promise<undefined>((resolve) => {
            timer = setTimeout(resolve, timeoutMs, undefined);
          }),
        ]);
        clearTimeout(timer);
        if (outcome !== undefined) return { reply: outcome, attempts, lost: attempts - 1 };
        if (attempts > retries) {
          throw new TimeoutError(
            `No reply from "${this.#peer !== undefined ? this.#peer.label : label}" after ${plural(attempts, "attempt")} (${plural(attempts, "datagram")} lost or unanswered)`,
            timeoutMs,
          );
        }
      }
    } finally {
      clearTimeout(timer);
      this.#requests.delete(waiter);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Iterates over received datagrams until {@linkcode UdpSocket.close}.
   * Breaking out of the loop leaves the socket open.
   *
   * @returns An async iterator of datagrams.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const server = await createUdpSocket({ host: "localhost", port: 50000 });
   * for await (const { data, from } of server) console.log(`${data} from ${from.host} ${from.port}`);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<UdpDatagram> {
    const waiter = new IterationWaiter();
    return {
      // receive() without options, minus a promise and a microtask per datagram: a server's hot path.
      next: (): Promise<IteratorResult<UdpDatagram>> => {
        if (this.#pendingError !== undefined) return Promise.reject(this.#takePendingError());
        const queued = this.#queue.shift();
        if (queued !== undefined) return Promise.resolve({ done: false, value: queued });
        if (this.#closed) return Promise.resolve(DONE);
        if (waiter.waiting) return this.receive().then(toIteratorResult); // next() called again before the last settled
        const promise = waiter.wait();
        this.#receivers.push(waiter);
        return promise;
      },
      return: (): Promise<IteratorResult<UdpDatagram>> => Promise.resolve(DONE),
    };
  }

  /**
   * Closes the socket: loops end, waiting reads return `undefined`, pending
   * requests reject with a {@linkcode ClosedError}. Calling it again is harmless.
   *
   * @returns Resolves once every underlying socket is closed.
   * @example
   * ```ts
   * import { createUdpSocket } from "@socklab/udp";
   * const socket = await createUdpSocket({ port: 0 });
   * await socket.close();
   * await socket.close(); // no effect
   * ```
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#queue.clear();
    this.#probe?.answered();
    for (const waiter of this.#receivers.splice(0)) waiter.resolve(undefined);
    const closed = this.#closedError(this.#peer?.label ?? this.#name());
    for (const waiter of this.#requests) waiter.reject(closed);
    this.#requests.clear();
    this.#kernelDropped = this.#readKernelDrops();
    this.#closing = Promise.all(this.#ends.map((end) => closeDgram(end.socket))).then(
      () => undefined,
    );
    return this.#closing;
  }

  // --- internals -------------------------------------------------------------

  /** The system's drop count summed over the ends (a file read per end). */
  #readKernelDrops(): number | undefined {
    let total = 0;
    for (const end of this.#ends) {
      let inode = this.#inodes.get(end);
      if (inode === undefined) {
        inode = findUdpInode(end.family, end.port) ?? null;
        this.#inodes.set(end, inode);
      }
      const drops = inode === null ? undefined : readUdpDrops(end.family, inode);
      if (drops === undefined) return undefined;
      total += drops;
    }
    return total;
  }

  #listen(end: End): void {
    end.socket.on("message", (data: Buffer, rinfo: dgram.RemoteInfo) =>
      this.#onMessage(end, data, rinfo),
    );
    end.socket.on("error", (err: Error) => this.#onError(end, err));
  }

  #onMessage(end: End, data: Buffer, rinfo: dgram.RemoteInfo): void {
    this.#datagramsReceived += 1;
    this.#bytesReceived += data.length;
    let host = rinfo.address;
    let family: 4 | 6 =
      (rinfo.family as unknown) === "IPv6" || (rinfo.family as unknown) === 6 ? 6 : 4;
    if (end.dual && family === 6 && host.startsWith("::ffff:") && isIPv4(host.slice(7))) {
      host = host.slice(7);
      family = 4;
    }
    const datagram: UdpDatagram = {
      data,
      from: { host, port: rinfo.port, family },
      local: end.local,
    };
    if (this.#probe !== undefined && this.#probe.end === end) this.#probe.answered();
    if (this.#requests.size > 0) {
      for (const waiter of this.#requests) {
        let accepted: boolean;
        try {
          accepted = waiter.accepts(datagram);
        } catch (err) {
          // A throwing match() fails its own request, not the socket.
          this.#requests.delete(waiter);
          waiter.reject(err);
          continue;
        }
        if (accepted) {
          this.#requests.delete(waiter);
          waiter.resolve(datagram);
          return;
        }
      }
    }
    if (this.#listener !== undefined) {
      this.#listener(datagram);
      return;
    }
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) receiver.resolve(datagram);
    else if (!this.#queue.push(datagram)) this.#dropped += 1;
  }

  #onError(end: End, err: Error): void {
    if (this.#closed) return;
    const code = (err as { code?: unknown }).code;
    if (code === "ECONNREFUSED") {
      this.#refused += 1;
      if (this.#probe !== undefined && this.#probe.end === end) {
        this.#probe.refused(err);
        return;
      }
    }
    const error =
      code === "ECONNREFUSED" && this.#peer !== undefined
        ? refusedError(this.#peer, [this.#peer.candidates[this.#peer.index]!], err)
        : toSocketError(
            err,
            this.#peer !== undefined
              ? { action: "send to", address: this.#peer.label }
              : { action: "receive on", address: end.local },
          );
    if (this.#requests.size > 0) {
      for (const waiter of this.#requests) waiter.reject(error);
      this.#requests.clear();
      return;
    }
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) receiver.reject(error);
    else this.#pendingError ??= error;
  }

  #throwPendingError(): void {
    if (this.#pendingError !== undefined) throw this.#takePendingError();
  }

  /** An error reported while nobody was reading or sending, handed out once. */
  #takePendingError(): unknown {
    const err = this.#pendingError;
    this.#pendingError = undefined;
    return err;
  }

  #checkUsable(label: string | undefined): void {
    if (this.#closed) throw this.#closedError(label ?? this.#name());
  }

  #closedError(label: string): ClosedError {
    return new ClosedError(`Cannot send to "${label}": the socket is closed`);
  }

  #checkSize(bytes: Uint8Array, family: 4 | 6): void {
    try {
      checkUdpPayload(bytes.length, family);
    } catch (err) {
      this.#failed += 1;
      throw err;
    }
  }

  #name(): string {
    return this.#ends.map((e) => e.local).join(", ");
  }

  /** Resolves an unconnected destination to the socket that can reach it and the address to use. */
  async #target(to: UdpDestination): Promise<{
    end: End;
    address: string;
    host: string;
    port: number;
    family: 4 | 6;
    label: string;
  }> {
    const destination = parseDestination(to);
    const candidates = await resolveDestinationHost(destination.host);
    for (const candidate of candidates) {
      const end =
        this.#ends.find((e) => e.family === candidate.family) ??
        (candidate.family === 4 ? this.#ends.find((e) => e.dual) : undefined);
      if (end === undefined) continue;
      const address =
        end.dual && candidate.family === 4 ? `::ffff:${candidate.address}` : candidate.address;
      return {
        end,
        address,
        host: candidate.address,
        port: destination.port,
        family: candidate.family,
        label: destination.label,
      };
    }
    const have = this.#ends.every((e) => e.family === 4) ? "IPv4" : "IPv6";
    throw new SocketError(
      `Cannot send to "${destination.label}": this socket is bound to ${have} only (${this.#name()}) and the host has no ${have} address`,
      { code: "EAFNOSUPPORT", address: destination.label, port: destination.port },
    );
  }

  #sendOn(
    end: End,
    bytes: Uint8Array,
    port: number | undefined,
    address: string | undefined,
    label: string | undefined,
    from?: UdpEndpoint,
  ): Promise<void> {
    // Callbacks are inline arrows, not named closures: this runs once per datagram.
    return new Promise((resolve, reject) => {
      try {
        if (port === undefined) {
          end.socket.send(bytes, (err) =>
            this.#afterSendOn(err, bytes.length, resolve, reject, label, port, address, from),
          );
        } else {
          end.socket.send(bytes, port, address, (err) =>
            this.#afterSendOn(err, bytes.length, resolve, reject, label, port, address, from),
          );
        }
      } catch (err) {
        this.#afterSendOn(err as Error, bytes.length, resolve, reject, label, port, address, from);
      }
    });
  }

  #afterSendOn(
    err: Error | null,
    size: number,
    resolve: () => void,
    reject: (err: unknown) => void,
    label: string | undefined,
    port: number | undefined,
    address: string | undefined,
    from: UdpEndpoint | undefined,
  ): void {
    if (err) {
      this.#failed += 1;
      const shown =
        label ?? (from === undefined ? String(address) : formatHostPort(from.host, from.port));
      reject(
        this.#closed
          ? this.#closedError(shown)
          : toSocketError(err, {
              action: "send to",
              address: shown,
              ...(port === undefined ? {} : { port }),
            }),
      );
      return;
    }
    this.#datagramsSent += 1;
    this.#bytesSent += size;
    resolve();
  }

  async #sendConnected(bytes: Uint8Array): Promise<void> {
    const peer = this.#peer!;
    while (!peer.settled) {
      if (peer.settling === undefined) {
        let finish!: () => void;
        peer.settling = new Promise((resolve) => {
          finish = resolve;
        });
        try {
          return await this.#probeSend(peer, bytes);
        } finally {
          peer.settling = undefined;
          finish();
        }
      }
      await peer.settling;
      this.#checkUsable(peer.label);
    }
    this.#checkSize(bytes, peer.candidates[peer.index]!.family);
    return this.#sendOn(this.#ends[0]!, bytes, undefined, undefined, this.remote);
  }

  /** Sends the first datagram to each address of the peer in turn until one does not refuse it. */
  async #probeSend(peer: Peer, bytes: Uint8Array): Promise<void> {
    const tried: ResolvedAddress[] = [];
    let refusal: unknown;
    for (let i = 0; i < peer.candidates.length; i++) {
      if (i !== peer.index) await this.#switchTo(peer, i);
      this.#checkUsable(peer.label);
      const candidate = peer.candidates[i]!;
      this.#checkSize(bytes, candidate.family);
      refusal = await this.#sendAndWatch(bytes);
      if (refusal === undefined) {
        peer.settled = true;
        return;
      }
      tried.push(candidate);
    }
    throw refusedError(peer, tried, refusal);
  }

  /** Replaces the connected socket by one connected to another address of the peer. */
  async #switchTo(peer: Peer, index: number): Promise<void> {
    // Close the old socket first: a fixed local port can then be bound again.
    await closeDgram(this.#ends[0]!.socket);
    const end = await openConnected(
      peer,
      index,
      this.#tuning.localPlans,
      this.#tuning.localPort ?? 0,
      this.#tuning.settings,
    );
    if (this.#closed) {
      await closeDgram(end.socket);
      return;
    }
    peer.index = index;
    this.#ends = [end];
    this.#endByLocal = new Map([[end.local, end]]);
    this.#listen(end);
  }

  /**
   * Sends on the connected socket and waits for the kernel's verdict: a refusal
   * (resolves with it), an answer, or `probeMs` without either (resolves `undefined`).
   */
  #sendAndWatch(bytes: Uint8Array): Promise<unknown> {
    const end = this.#ends[0]!;
    return new Promise((resolve, reject) => {
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      let immediate: NodeJS.Immediate | undefined;
      const finish = (refusal: unknown): void => {
        if (finished) return;
        finished = true;
        if (timer !== undefined) clearTimeout(timer);
        if (immediate !== undefined) clearImmediate(immediate);
        this.#probe = undefined;
        resolve(refusal);
      };
      this.#probe = { end, refused: finish, answered: () => finish(undefined) };
      const afterSend = (err: Error | null): void => {
        if (err) {
          if (finished) return;
          if ((err as { code?: unknown }).code === "ECONNREFUSED") {
            // An earlier refusal, reported on this send; this datagram did not go out.
            this.#refused += 1;
            finish(err);
            return;
          }
          finished = true;
          this.#probe = undefined;
          this.#failed += 1;
          reject(toSocketError(err, { action: "send to", address: this.remote ?? "" }));
          return;
        }
        this.#datagramsSent += 1;
        this.#bytesSent += bytes.length;
        if (finished) return; // refused or answered already
        // The refusal is queued by the time the kernel returns from a loopback
        // send; after the timer, one more poll phase (setImmediate) lets it in.
        timer = setTimeout(() => {
          immediate = setImmediate(finish, undefined);
        }, this.#tuning.probeMs);
      };
      try {
        end.socket.send(bytes, afterSend);
      } catch (err) {
        afterSend(err as Error);
      }
    });
  }
}

function toIteratorResult(datagram: UdpDatagram | undefined): IteratorResult<UdpDatagram> {
  return datagram === undefined ? DONE : { done: false, value: datagram };
}

/** The one reusable waiter of an iterator: no closure per datagram. */
class IterationWaiter implements ReceiveWaiter {
  waiting = false;
  #resolve: (result: IteratorResult<UdpDatagram>) => void = ignore;
  #reject: (err: unknown) => void = ignore;

  wait(): Promise<IteratorResult<UdpDatagram>> {
    this.waiting = true;
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  resolve(datagram: UdpDatagram | undefined): void {
    this.waiting = false;
    this.#resolve(datagram === undefined ? DONE : { done: false, value: datagram });
  }

  reject(err: unknown): void {
    this.waiting = false;
    this.#reject(err);
  }
}

function ignore(): void {}

/** Binds a socket and connects it to one address of the peer. */
async function openConnected(
  peer: Peer,
  index: number,
  localPlans: readonly BindPlan[] | undefined,
  localPort: number,
  settings: SocketSettings,
): Promise<End> {
  const candidate = peer.candidates[index]!;
  const plan: BindPlan = localPlans?.find((p) => p.family === candidate.family) ??
    localPlans?.find((p) => p.dual) ?? {
      address: candidate.family === 6 ? "::" : "0.0.0.0",
      family: candidate.family,
      dual: false,
    };
  const socket = await bindOne(plan, localPort, settings);
  const address =
    plan.dual && candidate.family === 4 ? `::ffff:${candidate.address}` : candidate.address;
  const label = formatHostPort(candidate.address, peer.port);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.connect(peer.port, address, (err?: Error) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    await closeDgram(socket);
    throw toSocketError(err, { action: "connect to", address: label, port: peer.port });
  }
  return makeEnd(socket, plan, true);
}

/**
 * Describes a bound socket. A connected socket names the source address the
 * system picked for the peer rather than the wildcard it was bound to.
 */
function makeEnd(socket: dgram.Socket, plan: BindPlan, connected = false): End {
  const bound = socket.address();
  let host = connected ? bound.address : plan.address;
  if (host.startsWith("::ffff:") && isIPv4(host.slice(7))) host = host.slice(7);
  return {
    socket,
    family: plan.family,
    dual: plan.dual,
    host,
    port: bound.port,
    local: formatAddress({ transport: "udp", host, port: bound.port }),
  };
}

function closeDgram(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** `Cannot send to "localhost:9": connection refused (nobody is listening on [::1]:9 or 127.0.0.1:9)`. */
function refusedError(peer: Peer, tried: readonly ResolvedAddress[], cause: unknown): SocklabError {
  const addresses = tried.map((c) => formatHostPort(c.address, peer.port));
  if (addresses.length === 1 && addresses[0] === peer.label) {
    return toSocketError(cause, { action: "send to", address: peer.label, port: peer.port });
  }
  return new SocketError(
    `Cannot send to "${peer.label}": connection refused (nobody is listening on ${addresses.join(" or ")})`,
    {
      code: "ECONNREFUSED",
      cause,
      address: peer.label,
      port: peer.port,
    },
  );
}

function connectedError(to: UdpDestination, peer: string): TypeError {
  return invalidArgument(
    "type",
    "ERR_SOCKLAB_CONNECTED",
    `Cannot send to "${describe(to)}": this socket is connected to "${peer}"; leave out the destination`,
  );
}

function noDestinationError(): TypeError {
  return invalidArgument(
    "type",
    "ERR_SOCKLAB_NO_DESTINATION",
    "Cannot send: this socket is not connected; give a destination",
  );
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof Uint8Array) return data;
  throw invalidArgument(
    "type",
    "ERR_SOCKLAB_INVALID_DATA",
    `Cannot send ${describeValue(data)}: expected a Uint8Array or a string`,
  );
}

function describe(to: UdpDestination): string {
  if (typeof to === "string") return to;
  if (to !== null && typeof to === "object" && typeof to.host === "string")
    return formatHostPort(to.host, to.port);
  return String(to);
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return `a ${typeof value}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_PORT",
      `Cannot use port "${port}": ports are 0 to 65535 (0 lets the system pick)`,
    );
  }
  return port;
}

function checkCount(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use ${name} ${value}: expected a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

function checkTimeout(name: string, value: number): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > MAX_TIMEOUT_MS
  ) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use ${name} ${value}: expected milliseconds from 1 to ${MAX_TIMEOUT_MS}`,
    );
  }
  return value;
}
