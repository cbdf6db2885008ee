/**
 * A datagram relay, socat's `UDP-RECVFROM:…,fork` to a second address: one
 * session (one socket to the target) per sender, closed when idle.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { formatAddress, type SocketAddress } from "@socklab/core";
import {
  bindDatagram,
  type DatagramEnd,
  openDatagram,
  type ReceivedDatagram,
} from "./datagram_address.ts";

/** Counters of one datagram session. */
export interface DatagramCounts {
  /** Datagrams and bytes from the sender to the target. */
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams and bytes from the target back to the sender. */
  datagramsOut: number;
  bytesOut: number;
}

/** One sender of a datagram relay and its socket to the target. */
export interface DatagramSession {
  /** 1 for the first sender, counting up. */
  readonly id: number;
  /** The sender in URI form; `undefined` for unbound UNIX senders (one shared session, no answers). */
  readonly client: string | undefined;
  /** The target, in URI form. */
  readonly target: string;
  /** Datagrams and bytes each way so far. */
  readonly counts: Readonly<DatagramCounts>;
}

/** Events of a {@linkcode DatagramRelay}. */
export interface DatagramRelayEvents {
  /** A new sender's first datagram came, and its socket to the target is open. */
  open: [session: DatagramSession];
  /** A session ended: idle, the relay closed, or `error` (the target refused, …). */
  close: [session: DatagramSession, error: Error | undefined];
  /** A datagram from a new sender was dropped: `maxSessions` sessions were open. `count`: drops so far. */
  dropped: [from: string | undefined, count: number];
  /** A datagram went through: `"in"` from a sender to the target, `"out"` back. */
  datagram: [session: DatagramSession, direction: "in" | "out", data: Buffer];
}

/** Options of {@linkcode relayDatagrams}. */
export interface RelayDatagramsOptions {
  /** Close a session after this long without a datagram either way, in milliseconds (default 60 000). */
  idleTimeoutMs?: number;
  /** Most sessions at once; datagrams from further senders are dropped (default 1024). */
  maxSessions?: number;
}

interface Session extends DatagramSession {
  counts: DatagramCounts;
  /** The latest datagram from the sender: answers go back through it. */
  last: ReceivedDatagram;
  upstream: Promise<DatagramEnd | undefined>;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
}

/**
 * A running datagram relay, from {@linkcode relayDatagrams}.
 *
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { relayDatagrams } from "@socklab/relay";
 * const relay = await relayDatagrams(parseAddress("udp://127.0.0.1:0"), parseAddress("udp://127.0.0.1:53"));
 * relay.on("close", (s) => console.log(s.client, s.counts));
 * await relay.close();
 * ```
 */
export class DatagramRelay extends EventEmitter<DatagramRelayEvents> {
  /** The addresses listened on, in URI form. */
  readonly addresses: readonly string[];
  /** Datagrams dropped because `maxSessions` sessions were open. */
  dropped = 0;
  readonly #end: DatagramEnd;
  readonly #sessions = new Map<string, Session>();
  readonly #target: SocketAddress;
  readonly #idleMs: number;
  readonly #maxSessions: number;
  #nextId = 1;
  #loop: Promise<void> | undefined;

  /** @internal Use {@linkcode relayDatagrams}. */
  constructor(end: DatagramEnd, target: SocketAddress, idleMs: number, maxSessions: number) {
    super();
    this.#end = end;
    this.addresses = end.name.split(", ");
    this.#target = target;
    this.#idleMs = idleMs;
    this.#maxSessions = maxSessions;
  }

  /** The sessions open now. */
  get sessions(): DatagramSession[] {
    return [...this.#sessions.values()];
  }

  /** @internal Starts receiving. */
  start(): void {
    this.#loop = (async () => {
      for await (const datagram of this.#end.datagrams()) this.#forward(datagram);
    })();
    this.#loop.catch(() => {});
  }

  /**
   * Stops receiving and closes every session.
   *
   * @returns When the sockets are closed (and a UNIX socket file removed).
   */
  async close(): Promise<void> {
    await this.#end.close();
    await this.#loop?.catch(() => {});
    await Promise.all([...this.#sessions.values()].map((s) => this.#closeSession(s, undefined)));
  }

  #forward(datagram: ReceivedDatagram): void {
    const key = datagram.from ?? "";
    let session = this.#sessions.get(key);
    if (session === undefined) {
      if (this.#sessions.size >= this.#maxSessions) {
        this.dropped += 1;
        this.emit("dropped", datagram.from, this.dropped);
        return;
      }
      session = this.#open(key, datagram);
    }
    session.last = datagram;
    this.#touch(session);
    const s = session;
    void s.upstream.then(async (upstream) => {
      if (upstream === undefined || s.closed) return;
      try {
        await upstream.send(datagram.data);
        s.counts.datagramsIn += 1;
        s.counts.bytesIn += datagram.data.length;
        this.emit("datagram", s, "in", datagram.data);
      } catch (err) {
        await this.#closeSession(s, err as Error);
      }
    });
  }

  #open(key: string, first: ReceivedDatagram): Session {
    const session: Session = {
      id: this.#nextId++,
      client: first.from,
      target: formatAddress(this.#target),
      counts: { datagramsIn: 0, bytesIn: 0, datagramsOut: 0, bytesOut: 0 },
      last: first,
      upstream: Promise.resolve(undefined),
      timer: undefined,
      closed: false,
    };
    this.#sessions.set(key, session);
    session.upstream = openDatagram(this.#target).then(
      (upstream) => {
        this.emit("open", session);
        void this.#answer(session, upstream);
        return upstream;
      },
      async (err: unknown) => {
        await this.#closeSession(session, err as Error);
        return undefined;
      },
    );
    return session;
  }

  /** Sends the target's datagrams back to the sender. */
  async #answer(session: Session, upstream: DatagramEnd): Promise<void> {
    try {
      for await (const answer of upstream.datagrams()) {
        this.#touch(session);
        if (session.last.from === undefined) continue; // an unbound sender cannot get answers
        await session.last.reply(answer.data);
        session.counts.datagramsOut += 1;
        session.counts.bytesOut += answer.data.length;
        this.emit("datagram", session, "out", answer.data);
      }
    } catch (err) {
      await this.#closeSession(session, err as Error);
    }
  }

  #touch(session: Session): void {
    if (session.timer !== undefined) session.timer.refresh();
    else {
      session.timer = setTimeout(() => void this.#closeSession(session, undefined), this.#idleMs);
      session.timer.unref();
    }
  }

  async #closeSession(session: Session, error: Error | undefined): Promise<void> {
    if (session.closed) return;
    session.closed = true;
    if (session.timer !== undefined) clearTimeout(session.timer);
    this.#sessions.delete(session.client ?? "");
    const upstream = await session.upstream;
    await upstream?.close();
    this.emit("close", session, error);
  }
}

/**
 * Listens on one datagram address and relays every sender to another, like
 * `socat UDP-RECVFROM:…,fork UDP-SENDTO:…`: each new sender gets its own socket
 * to the target (so answers find their way back to it), closed after
 * `idleTimeoutMs` without traffic. UDP and UNIX datagram sockets mix freely.
 *
 * @param from Where to listen: `udp` or `unixgram`.
 * @param to Where each sender's datagrams go: `udp` or `unixgram`.
 * @param options Idle timeout and session limit.
 * @returns The relay, receiving.
 * @throws {TypeError} `ERR_SOCKLAB_NOT_A_DATAGRAM` when either address is a stream address.
 * @throws {AddressInUseError} and the other errors of binding.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { relayDatagrams } from "@socklab/relay";
 * const relay = await relayDatagrams(parseAddress("udp://127.0.0.1:5353"), parseAddress("unixgram:///tmp/dns.sock"));
 * ```
 */
export async function relayDatagrams(
  from: SocketAddress,
  to: SocketAddress,
  options: RelayDatagramsOptions = {},
): Promise<DatagramRelay> {
  if (to.transport !== "udp" && to.transport !== "unixgram") {
    // openDatagram's own one-line refusal, before anything is bound.
    await openDatagram(to);
  }
  const end = await bindDatagram(from);
  const relay = new DatagramRelay(
    end,
    to,
    options.idleTimeoutMs ?? 60_000,
    options.maxSessions ?? 1024,
  );
  relay.start();
  return relay;
}
