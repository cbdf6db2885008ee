/**
 * One native UNIX datagram socket with the binding's sharp edges filed off:
 * received datagrams wait in order until read, sends wait for room instead of
 * failing with EAGAIN, errors get names, and close happens once.
 *
 * @module
 */
import { constants } from "node:os";
import { performance } from "node:perf_hooks";
import { ClosedError, type SocketError, type SocklabError, TimeoutError } from "@socklab/core";
import { fromNative } from "./_address.ts";
import { FLAG_TRUNCATED, loadBinding, type UnixDgramBinding } from "./_binding.ts";
import { closedError, errnoError, sendTimeoutError } from "./_errors.ts";
import type { UNIX_DGRAM_RECEIVE_BUFFER } from "./unix_dgram_limits.ts";

/** One received datagram. */
export interface UnixDatagram {
  /** The bytes: at most {@linkcode UNIX_DGRAM_RECEIVE_BUFFER}. */
  data: Buffer;
  /**
   * The sender's path as it bound it (relative paths stay relative), `@name`
   * for a sender bound to a Linux abstract name, or `undefined` for a sender
   * that did not bind one (it cannot get replies).
   */
  from: string | undefined;
  /**
   * `true` when the datagram was longer than the receive buffer and was cut
   * (known exactly, from the kernel's `MSG_TRUNC`): `data` is its first
   * {@linkcode UNIX_DGRAM_RECEIVE_BUFFER} bytes only.
   */
  truncated: boolean;
}

const EAGAIN = -constants.errno.EAGAIN;
const ENOBUFS = -constants.errno.ENOBUFS;
const EINTR = -constants.errno.EINTR;

/**
 * How long a full unconnected send retries on every loop turn before timers
 * take over: the kernel wakes connected senders only, and a receiver that reads
 * usually makes room within microseconds.
 */
const SPIN_MS = 2;
/** The longest pause between retries of a full unconnected send, in ms. */
const MAX_BACKOFF_MS = 16;
/** Used slots at the front of the inbox and of an outbox are dropped once there are this many. */
const COMPACT_AFTER = 1024;

const RESOLVED: Promise<void> = Promise.resolve();

/** {@linkcode DgramHandle.sendNow}: the kernel took the datagram. */
export const SENT_NOW = 0;
/** {@linkcode DgramHandle.sendNow}: it waits for room in the receiver's queue. */
export const QUEUED = 1;
/** {@linkcode DgramHandle.sendNow}: too many sends wait already; it was dropped. */
export const DROPPED = 2;

function ignore(): void {}

interface PendingSend {
  data: Uint8Array;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The sends to one destination that wait for room in its receive queue, in order. */
interface Outbox {
  to: string;
  /** Sent with `send()` on the connected socket (writable events) rather than `sendto()` (retries). */
  connected: boolean;
  items: (PendingSend | undefined)[];
  head: number;
  /** Timer retries since the last datagram got through. */
  attempts: number;
  /** When the queue was first found full since the last datagram got through. */
  stalledSince: number | undefined;
  retry: NodeJS.Immediate | undefined;
  backoff: NodeJS.Timeout | undefined;
}

/**
 * A reader waiting for a datagram: `receive()` (gets the datagram, or
 * `undefined` on close) or, cheaper per datagram, an iterator (gets the result).
 */
type Waiter =
  | {
      iterator: false;
      resolve: (datagram: UnixDatagram | undefined) => void;
      reject: (err: Error) => void;
    }
  | {
      iterator: true;
      resolve: (result: IteratorResult<UnixDatagram, undefined>) => void;
      reject: (err: Error) => void;
    };

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/** A native socket: receive queue, send queues, close. */
export class DgramHandle {
  readonly #binding: UnixDgramBinding;
  readonly #fd: number;
  readonly #sendTimeoutMs: number;
  /** Lengths and flags of the datagrams in each batch, filled by the binding. */
  readonly #meta: Int32Array;
  #closed = false;
  #label = "an unbound socket";
  #peer: string | undefined;

  #inbox: (UnixDatagram | undefined)[] = [];
  #inboxHead = 0;
  #waiters: Waiter[] = [];
  #error: SocklabError | undefined;

  readonly #outboxes = new Map<string, Outbox>();
  #pending = 0;
  /**
   * One timer for every outbox, so a flood that fills the queue every few
   * datagrams does not make a timer each time. Unreferenced: the retries and the
   * socket itself keep the process alive while sends wait.
   */
  #stallTimer: NodeJS.Timeout | undefined;

  /**
   * Opens an unbound socket.
   *
   * @param sendTimeoutMs How long a destination's queue may stay full before its sends fail.
   */
  constructor(sendTimeoutMs: number) {
    this.#binding = loadBinding();
    this.#sendTimeoutMs = sendTimeoutMs;
    const b = this.#binding;
    this.#meta = new Int32Array(2 * Math.max(b.BATCH, 64));
    const fd = b.socket(b.AF_UNIX, b.SOCK_DGRAM, 0, this.#onRecv, this.#onWritable, this.#meta);
    if (fd < 0) throw errnoError(fd, { action: "create", address: "", syscall: "socket" });
    this.#fd = fd;
  }

  /** Whether {@linkcode close} was called. */
  /** Set: datagrams go to it as they arrive instead of the inbox. */
  #listener: ((datagram: UnixDatagram) => void) | undefined;

  /**
   * Delivers datagrams to `listener` as they arrive (or `undefined`: queue them again).
   *
   * @param listener The listener.
   */
  listen(listener: ((datagram: UnixDatagram) => void) | undefined): void {
    this.#listener = listener;
    if (listener === undefined) return;
    // Whatever was queued before goes first, in order.
    for (let queued = this.#take(); queued !== undefined; queued = this.#take()) listener(queued);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Received datagrams not read yet. */
  get queued(): number {
    return this.#inbox.length - this.#inboxHead;
  }

  /** Sends waiting for room in a receiver's queue. */
  get pendingSends(): number {
    return this.#pending;
  }

  /**
   * Binds the socket to a path.
   *
   * @param path A checked path.
   * @throws {SocketError} with the errno's name.
   */
  bind(path: string): void {
    const err = this.#binding.bind(this.#fd, path);
    if (err < 0)
      throw errnoError(err, { action: "bind", address: fromNative(path), syscall: "bind" });
    this.#label = fromNative(path);
  }

  /**
   * Connects the socket to a peer: `send()` without a destination goes there,
   * waits for writable events when its queue is full, and only the peer can send
   * to this socket.
   *
   * @param path A checked path.
   * @throws {SocketError} with the errno's name.
   */
  connect(path: string): void {
    const err = this.#binding.connect(this.#fd, path);
    if (err < 0) {
      throw errnoError(err, {
        action: "connect to",
        address: fromNative(path),
        syscall: "connect",
      });
    }
    this.#peer = path;
  }

  /**
   * Sends one datagram, in order after any that wait for the same destination.
   *
   * @param data The bytes (size already checked).
   * @param to A checked destination path; the connected peer's path uses `send()`.
   * @returns Resolves once the kernel took the datagram.
   */
  send(data: Uint8Array, to: string): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(fromNative(to)));
    let box = this.#outboxes.get(to);
    if (box === undefined) {
      const connected = to === this.#peer;
      const result = this.#trySend(data, to, connected);
      if (result === 0) return RESOLVED;
      if (!congested(result, connected)) return Promise.reject(this.#sendError(result, to));
      box = this.#openOutbox(to, connected);
      this.#waitForRoom(box);
    }
    const target = box;
    this.#pending++;
    return new Promise((resolve, reject) => {
      target.items.push({ data, resolve, reject });
    });
  }

  /**
   * Sends one datagram without ever waiting for it: at once when the receiver
   * has room, else queued behind the sends already waiting — but only while
   * fewer than `maxPending` wait in all; past that it is dropped. A receiver
   * that never reads thus costs at most `maxPending` datagrams of memory.
   *
   * @param data The bytes (size already checked).
   * @param to A checked destination path.
   * @param maxPending Most sends that may wait, over all destinations.
   * @param onFailed Gets the failure of a queued datagram (receiver gone, send timeout).
   * @returns {@linkcode SENT_NOW}, {@linkcode QUEUED}, {@linkcode DROPPED}, or a
   *   negative errno when the send failed at once.
   */
  sendNow(
    data: Uint8Array,
    to: string,
    maxPending: number,
    onFailed: (err: Error) => void,
  ): number {
    if (this.#closed) return -constants.errno.EBADF;
    let box = this.#outboxes.get(to);
    if (box === undefined) {
      const connected = to === this.#peer;
      const result = this.#trySend(data, to, connected);
      if (result === 0) return SENT_NOW;
      if (!congested(result, connected)) return result;
      if (this.#pending >= maxPending) return DROPPED;
      box = this.#openOutbox(to, connected);
      this.#waitForRoom(box);
    } else if (this.#pending >= maxPending) {
      return DROPPED;
    }
    this.#pending++;
    // A received datagram is a view of its whole batch (up to 64 datagrams): a queued
    // view would keep the batch alive, so the bounded queue holds copies.
    const own =
      data.byteLength === data.buffer.byteLength ? data : Uint8Array.prototype.slice.call(data);
    box.items.push({ data: own, resolve: ignore, reject: onFailed });
    return QUEUED;
  }

  /**
   * The next received datagram, waiting for one if none is queued.
   *
   * @param timeoutMs Give up after this long (`undefined`: wait as long as it takes).
   * @param signal Give up when aborted.
   * @returns The datagram.
   * @throws {ClosedError} once closed with nothing left; {@linkcode TimeoutError} after `timeoutMs`.
   */
  receive(timeoutMs?: number, signal?: AbortSignal): Promise<UnixDatagram> {
    const ready = this.#take();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#closed) {
      return Promise.reject(
        new ClosedError(`Cannot receive on "${this.#label}": the socket is closed`),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        iterator: false,
        resolve: (datagram) => {
          finish();
          if (datagram !== undefined) resolve(datagram);
          else reject(new ClosedError(`Cannot receive on "${this.#label}": the socket is closed`));
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      };
      const drop = (): void => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
      };
      const onAbort = (): void => {
        drop();
        finish();
        reject(signal?.reason);
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          drop();
          finish();
          reject(
            new TimeoutError(
              `Cannot receive on "${this.#label}": nothing arrived within ${timeoutMs} ms`,
              timeoutMs,
            ),
          );
        }, timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * The next datagram for async iteration: `{ done: true }` once closed and drained.
   *
   * @returns The iterator result.
   */
  next(): Promise<IteratorResult<UnixDatagram, undefined>> {
    const ready = this.#take();
    if (ready !== undefined) return Promise.resolve({ value: ready, done: false });
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#closed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ iterator: true, resolve, reject });
    });
  }

  /**
   * Closes the descriptor once: the process may exit afterwards. Waiting sends
   * fail with a {@linkcode ClosedError}; datagrams already received can still be read.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const box of this.#outboxes.values()) this.#failOutbox(box, closedError(box.to));
    this.#outboxes.clear();
    clearTimeout(this.#stallTimer);
    // EBADF cannot happen (closed once); other errors of close(2) leave nothing to do.
    this.#binding.close(this.#fd);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (waiter.iterator) waiter.resolve(DONE);
      else waiter.resolve(undefined);
    }
  }

  #take(): UnixDatagram | undefined {
    if (this.#inboxHead === this.#inbox.length) return undefined;
    const datagram = this.#inbox[this.#inboxHead];
    this.#inbox[this.#inboxHead++] = undefined;
    if (this.#inboxHead === this.#inbox.length) {
      this.#inbox.length = 0;
      this.#inboxHead = 0;
    } else if (this.#inboxHead >= COMPACT_AFTER && this.#inboxHead * 2 >= this.#inbox.length) {
      this.#inbox = this.#inbox.slice(this.#inboxHead);
      this.#inboxHead = 0;
    }
    return datagram;
  }

  /** One call per wake-up of the binding, with every datagram it read. */
  readonly #onRecv = (count: number, data?: Buffer, senders?: readonly (string | null)[]): void => {
    if (count < 0 || data === undefined || senders === undefined) {
      if (count === EAGAIN || count === EINTR || this.#error !== undefined) return;
      this.#error = errnoError(count, {
        action: "receive on",
        address: this.#label,
        syscall: "recvmmsg",
      });
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const waiter of waiters) waiter.reject(this.#error);
      return;
    }
    const meta = this.#meta;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[2 * i]!;
      const sender = senders[i];
      const datagram: UnixDatagram = {
        data: count === 1 ? data : data.subarray(offset, offset + length),
        from: sender === null || sender === undefined ? undefined : fromNative(sender),
        truncated: (meta[2 * i + 1]! & FLAG_TRUNCATED) !== 0,
      };
      offset += length;
      if (this.#listener !== undefined) {
        this.#listener(datagram);
        continue;
      }
      if (this.#waiters.length === 0) {
        this.#inbox.push(datagram);
        continue;
      }
      const waiter = this.#waiters.shift()!;
      if (waiter.iterator) waiter.resolve({ value: datagram, done: false });
      else waiter.resolve(datagram);
    }
  };

  readonly #onWritable = (): void => {
    for (const box of this.#outboxes.values()) if (box.connected) this.#pump(box);
  };

  #trySend(data: Uint8Array, to: string, connected: boolean): number {
    return connected
      ? this.#binding.send(this.#fd, data)
      : this.#binding.sendto(this.#fd, data, 0, data.byteLength, to);
  }

  /**
   * The error for a failed send's result.
   *
   * @param result A negative errno from {@linkcode DgramHandle.sendNow}.
   * @param to The destination.
   * @returns A one-line socklab error.
   */
  sendError(result: number, to: string): SocketError {
    return this.#sendError(result, to);
  }

  #sendError(result: number, to: string): SocketError {
    return errnoError(result, {
      action: "send to",
      address: fromNative(to),
      syscall: to === this.#peer ? "send" : "sendto",
    });
  }

  #openOutbox(to: string, connected: boolean): Outbox {
    const box: Outbox = {
      to,
      connected,
      items: [],
      head: 0,
      attempts: 0,
      stalledSince: performance.now(),
      retry: undefined,
      backoff: undefined,
    };
    this.#outboxes.set(to, box);
    if (this.#stallTimer === undefined) this.#armStallTimer(this.#sendTimeoutMs);
    return box;
  }

  /** Connected sockets wait for the binding's writable event; others retry, soon at first. */
  #waitForRoom(box: Outbox): void {
    if (box.connected) return;
    if (performance.now() - (box.stalledSince ?? 0) < SPIN_MS) {
      box.retry = setImmediate(this.#retry, box);
    } else {
      box.backoff = setTimeout(this.#retry, Math.min(2 ** box.attempts, MAX_BACKOFF_MS), box);
      box.attempts++;
    }
  }

  readonly #retry = (box: Outbox): void => {
    box.retry = undefined;
    box.backoff = undefined;
    this.#pump(box);
  };

  #pump(box: Outbox): void {
    if (this.#closed || this.#outboxes.get(box.to) !== box) return;
    while (box.head < box.items.length) {
      const item = box.items[box.head]!;
      const result = this.#trySend(item.data, box.to, box.connected);
      if (congested(result, box.connected)) {
        box.stalledSince ??= performance.now();
        this.#waitForRoom(box);
        return;
      }
      box.items[box.head++] = undefined;
      if (box.head >= COMPACT_AFTER && box.head * 2 >= box.items.length) {
        box.items = box.items.slice(box.head);
        box.head = 0;
      }
      this.#pending--;
      if (result === 0) {
        box.attempts = 0;
        box.stalledSince = undefined;
        item.resolve();
      } else {
        item.reject(this.#sendError(result, box.to));
      }
    }
    this.#outboxes.delete(box.to);
  }

  #armStallTimer(delay: number): void {
    this.#stallTimer = setTimeout(this.#checkStalls, delay);
    this.#stallTimer.unref();
  }

  /** Fails the outboxes whose queue stayed full for the send timeout; re-arms for the rest. */
  readonly #checkStalls = (): void => {
    this.#stallTimer = undefined;
    const now = performance.now();
    let next = this.#sendTimeoutMs;
    for (const box of this.#outboxes.values()) {
      if (box.stalledSince === undefined) continue;
      const waited = now - box.stalledSince;
      if (waited + 1 >= this.#sendTimeoutMs) {
        this.#failOutbox(box, sendTimeoutError(fromNative(box.to), this.#sendTimeoutMs));
        this.#outboxes.delete(box.to);
      } else {
        next = Math.min(next, this.#sendTimeoutMs - waited);
      }
    }
    if (this.#outboxes.size > 0) this.#armStallTimer(next);
  };

  #failOutbox(box: Outbox, err: Error): void {
    clearImmediate(box.retry);
    clearTimeout(box.backoff);
    for (let i = box.head; i < box.items.length; i++) {
      this.#pending--;
      box.items[i]!.reject(err);
    }
    box.items = [];
    box.head = 0;
  }
}

/** Whether a send result means "the receiver's queue (or our send buffer) is full". */
function congested(result: number, connected: boolean): boolean {
  return connected ? result === 1 : result === EAGAIN || result === ENOBUFS;
}
