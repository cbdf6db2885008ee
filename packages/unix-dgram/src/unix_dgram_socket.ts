import { DatagramTooLargeError, invalidArgument, noteDropped } from "@socklab/core";
import { toNative } from "./_address.ts";
import { type DgramHandle, DROPPED, QUEUED, SENT_NOW, type UnixDatagram } from "./_dgram_handle.ts";
import { checkUnixDgramPath } from "./check_unix_dgram_path.ts";

export type { UnixDatagram } from "./_dgram_handle.ts";

/** Options every UNIX datagram socket takes. */
export interface UnixDgramSocketOptions {
  /**
   * How long a receiver's queue may stay full, with nothing getting through,
   * before the sends waiting for it fail with a `TimeoutError`. Default 5000 ms.
   */
  sendTimeoutMs?: number;
  /**
   * Refuse larger sends with a `DatagramTooLargeError` before they reach the
   * kernel. Default and most: {@linkcode unixDgramSendLimit}.
   */
  maxDatagramSize?: number;
  /**
   * Most replies of {@linkcode UnixDgramSocket.replyNow} that may wait for room
   * in receivers' queues; past it replies are dropped and counted. Default 64.
   */
  maxQueuedReplies?: number;
}

/** Counters of {@linkcode UnixDgramSocket.replyNow}. */
export interface ReplyStats {
  /** Replies the kernel took at once or after waiting. */
  sent: number;
  /** Replies dropped because `maxQueuedReplies` already waited (a receiver not reading). */
  dropped: number;
  /** Replies that failed: receiver gone, size over the limit, send timeout. */
  failed: number;
}

/** What {@linkcode UnixDgramSocket.replyNow} did with a reply. */
export type ReplyOutcome = "sent" | "queued" | "dropped" | "failed";

/** What {@linkcode bindUnixDgram} and {@linkcode openUnixDgram} hand to the socket. */
export interface UnixDgramSocketInit {
  path: string | undefined;
  peer: string | undefined;
  removedStale: boolean;
  maxDatagramSize: number;
  maxQueuedReplies: number;
  /**
   * Removes what binding created (the socket file, a private temp dir); called
   * before the socket closes, and removes the file before its first `await`.
   */
  cleanup: () => Promise<void>;
}

/**
 * A UNIX datagram socket (`AF_UNIX`, `SOCK_DGRAM`): made by
 * {@linkcode bindUnixDgram} (a server on a path) or {@linkcode openUnixDgram}
 * (a client: unbound, bound to a private temp path, or connected).
 *
 * Receiving is async iteration of `{ data, from, truncated }`. The binding reads
 * each datagram as it arrives and cannot pause, so datagrams a slow reader has
 * not taken yet wait in memory, in order (`queued`). Sending waits while the
 * receiver's queue is full (backpressure, never loss) and fails with a
 * `TimeoutError` only when it stays full for `sendTimeoutMs`. An open socket keeps
 * the process alive: `close()` it.
 *
 * @example
 * ```ts
 * import { bindUnixDgram, openUnixDgram } from "@socklab/unix-dgram";
 * const server = await bindUnixDgram({ path: "/tmp/unixsocket_udp" });
 * const client = await openUnixDgram();
 * await client.send("Hallo Welt!", server.path);
 * const { data, from } = await server.receive();
 * data.toString(); // "Hallo Welt!"; from is undefined: the client is unbound
 * await client.close();
 * await server.close(); // removes /tmp/unixsocket_udp
 * ```
 */
export class UnixDgramSocket implements AsyncIterable<UnixDatagram> {
  /** The bound path, or `undefined` for an unbound socket (it cannot get replies). */
  readonly path: string | undefined;
  /** The connected peer: `send()` without a destination goes there, and only it can send here. */
  readonly peer: string | undefined;
  /** Whether binding removed a stale socket file first. */
  readonly removedStale: boolean;
  /** The largest datagram `send()` accepts, in bytes. */
  readonly maxDatagramSize: number;
  /** Most replies of {@linkcode UnixDgramSocket.replyNow} that wait at once; more are dropped. */
  readonly maxQueuedReplies: number;
  readonly #handle: DgramHandle;
  readonly #cleanup: () => Promise<void>;
  readonly #replies: ReplyStats = { sent: 0, dropped: 0, failed: 0 };
  #lastReplyError: Error | undefined;
  readonly #onQueuedReply = {
    failed: (err: Error): void => {
      this.#replies.failed += 1;
      this.#lastReplyError = err;
    },
  };
  #closing: Promise<void> | undefined;
  #checked: string | undefined;

  /**
   * Wraps an open handle; use {@linkcode bindUnixDgram} or {@linkcode openUnixDgram}.
   *
   * @param handle The native socket.
   * @param init Its address and clean-up.
   */
  constructor(handle: DgramHandle, init: UnixDgramSocketInit) {
    this.#handle = handle;
    this.path = init.path;
    this.peer = init.peer;
    this.removedStale = init.removedStale;
    this.maxDatagramSize = init.maxDatagramSize;
    this.#cleanup = init.cleanup;
    this.maxQueuedReplies = init.maxQueuedReplies;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Received datagrams not read yet. */
  get queued(): number {
    return this.#handle.queued;
  }

  /** Sends waiting for room in a receiver's queue. */
  get pendingSends(): number {
    return this.#handle.pendingSends;
  }

  /**
   * Hands each datagram to `listener` the moment it arrives, instead of queueing
   * it for iteration or `receive()`: the lean path of a busy server, with no
   * promise per datagram. Datagrams queued before come first, in order.
   *
   * @param listener Called once per datagram.
   * @returns Stops the listener; datagrams queue for iteration again.
   * @example
   * ```ts
   * import { bindUnixDgram } from "@socklab/unix-dgram";
   * const server = await bindUnixDgram({ path: "/tmp/unixsocket_udp" });
   * server.onDatagram(({ data, from }) => console.log(from, data.length));
   * ```
   */
  onDatagram(listener: (datagram: UnixDatagram) => void): () => void {
    this.#handle.listen(listener);
    return () => this.#handle.listen(undefined);
  }

  /**
   * Sends one datagram. Sends to one destination arrive in the order they were
   * made; while the receiver's queue is full they wait.
   *
   * @param data The bytes, or text sent as UTF-8.
   * @param to The receiver's path; may be left out on a connected socket.
   * @returns Resolves once the kernel took the datagram.
   * @throws {DatagramTooLargeError} above {@linkcode maxDatagramSize}, before sending.
   * @throws {SocketError} `ENOENT` (no such socket), `ECONNREFUSED` (nobody bound: a stale
   *   file), `EACCES`, `EPROTOTYPE` (a stream socket), … with a one-line message.
   * @throws {TimeoutError} when the receiver's queue stayed full for `sendTimeoutMs`.
   * @throws {ClosedError} when the socket is (or gets) closed first.
   * @example
   * ```ts
   * import { openUnixDgram } from "@socklab/unix-dgram";
   * const client = await openUnixDgram();
   * await client.send(Buffer.from("Hallo Welt!"), "/tmp/unixsocket_udp");
   * await client.close();
   * ```
   */
  send(data: Uint8Array | string, to?: string): Promise<void> {
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (bytes.byteLength > this.maxDatagramSize) {
      return Promise.reject(
        new DatagramTooLargeError(bytes.byteLength, this.maxDatagramSize, "UNIX"),
      );
    }
    const destination = to ?? this.peer;
    if (destination === undefined) {
      return Promise.reject(
        invalidArgument(
          "type",
          "ERR_SOCKLAB_NO_DESTINATION",
          "Cannot send: give the receiver's path (the socket is not connected)",
        ),
      );
    }
    if (destination !== this.#checked) {
      try {
        checkUnixDgramPath(destination);
      } catch (err) {
        return Promise.reject(err);
      }
      this.#checked = destination;
    }
    return this.#handle.send(bytes, toNative(destination));
  }

  /**
   * Sends a reply without waiting and without a promise: the echo path of a
   * server facing senders that may never read. A reply goes at once when the
   * receiver has room; else it waits in a bounded queue (`maxQueuedReplies` over
   * all receivers); past that it is dropped. Drops and failures are counted in
   * {@linkcode UnixDgramSocket.replyStats}, never thrown or buffered without limit.
   *
   * @param data The reply.
   * @param to The receiver's path (a datagram's `from`).
   * @returns What happened to it: `sent`, `queued`, `dropped` or `failed`.
   * @example
   * ```ts
   * import { bindUnixDgram } from "@socklab/unix-dgram";
   * const server = await bindUnixDgram({ path: "/tmp/echo.sock" });
   * server.onDatagram(({ data, from }) => from && server.replyNow(data, from));
   * ```
   */
  replyNow(data: Uint8Array, to: string): ReplyOutcome {
    const replies = this.#replies;
    if (data.byteLength > this.maxDatagramSize) {
      replies.failed += 1;
      this.#lastReplyError = new DatagramTooLargeError(
        data.byteLength,
        this.maxDatagramSize,
        "UNIX",
      );
      return "failed";
    }
    if (to !== this.#checked) {
      try {
        checkUnixDgramPath(to);
      } catch (err) {
        replies.failed += 1;
        this.#lastReplyError = err as Error;
        return "failed";
      }
      this.#checked = to;
    }
    const native = toNative(to);
    const result = this.#handle.sendNow(
      data,
      native,
      this.maxQueuedReplies,
      this.#onQueuedReply.failed,
    );
    if (result === SENT_NOW) {
      replies.sent += 1;
      return "sent";
    }
    if (result === QUEUED) {
      replies.sent += 1; // counted back as failed if it never gets through
      return "queued";
    }
    if (result === DROPPED) {
      replies.dropped += 1;
      noteDropped(data.byteLength);
      return "dropped";
    }
    replies.failed += 1;
    this.#lastReplyError = this.#handle.sendError(result, native);
    return "failed";
  }

  /** Counters of {@linkcode UnixDgramSocket.replyNow}: sent, dropped, failed. */
  get replyStats(): Readonly<ReplyStats> {
    return { ...this.#replies };
  }

  /** The latest reply failure (for a summary line), if any. */
  get lastReplyError(): Error | undefined {
    return this.#lastReplyError;
  }

  /**
   * Waits for the next datagram (one already queued comes at once).
   *
   * @param options `timeoutMs`: give up with a `TimeoutError`; `signal`: give up when aborted.
   * @returns The datagram: `data`, the sender's path `from` (undefined if unbound), `truncated`.
   * @throws {TimeoutError} when nothing arrived in time; {@linkcode ClosedError} when closed.
   * @example
   * ```ts
   * import { openUnixDgram } from "@socklab/unix-dgram";
   * const client = await openUnixDgram({ bind: "auto" });
   * await client.send("ping", "/tmp/unixsocket_udp");
   * const reply = await client.receive({ timeoutMs: 1000 });
   * await client.close();
   * ```
   */
  receive(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<UnixDatagram> {
    return this.#handle.receive(options.timeoutMs, options.signal);
  }

  /**
   * Iterates over received datagrams until the socket is closed (datagrams
   * received before the close still come). Leaving the loop early does not
   * close the socket.
   *
   * @returns An async iterator of datagrams.
   * @example
   * ```ts
   * import { bindUnixDgram } from "@socklab/unix-dgram";
   * const server = await bindUnixDgram({ path: "/tmp/unixsocket_udp" });
   * for await (const { data, from, truncated } of server) {
   *   console.log(from ?? "(unbound)", truncated ? "(may be cut)" : "", data);
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<UnixDatagram, undefined> {
    const handle = this.#handle;
    return {
      next: () => handle.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /**
   * Closes the socket, so the process can exit; removes the socket file it
   * created (only while it is still that file) and a private temp dir. Waiting
   * sends fail with a `ClosedError`. Calling it again returns the same promise.
   *
   * @returns Resolves when the files are gone.
   * @example
   * ```ts
   * import { bindUnixDgram } from "@socklab/unix-dgram";
   * const server = await bindUnixDgram({ path: "/tmp/unixsocket_udp" });
   * await server.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // The file is removed (synchronously, while it is surely ours) before the socket closes.
      const cleaned = this.#cleanup();
      this.#handle.close();
      await cleaned;
    })();
    return this.#closing;
  }
}
