import * as net from "node:net";
import { ByteQueue } from "./_byte_queue.ts";
import { ClosedError, invalidArgument, LimitExceededError, TimeoutError } from "./errors.ts";
import { toSocketError } from "./system_error.ts";

/** Options for {@linkcode StreamConnection}. */
export interface StreamConnectionOptions {
  /**
   * Bytes read ahead and not yet consumed before the socket is paused, so a
   * slow reader never makes the buffer grow without bound. A read that needs
   * more (`readExactly(n)` with a larger `n`) may buffer more while it waits.
   * Default 1 MiB.
   */
  maxBuffered?: number;
  /**
   * How to name the peer when the socket cannot tell: a UNIX socket client
   * passes the path it connected to. Overrides the address the socket reports.
   */
  remote?: string;
  /** How to name our end when the socket cannot tell: a UNIX socket server passes the path it listens on. */
  local?: string;
}

/** Options every read of a {@linkcode StreamConnection} accepts. */
export interface ReadOptions {
  /** Reject with a {@linkcode TimeoutError} when the read has not finished in this many milliseconds. */
  timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal;
}

/** The IP address and port of a TCP peer, as the socket reports it. */
export interface StreamPeerAddress {
  readonly address: string;
  readonly family: "IPv4" | "IPv6";
  readonly port: number;
}

/**
 * The peer closed the connection before a read got what it asked for. The
 * bytes that did arrive are consumed and kept in `partial`.
 *
 * @example
 * ```ts
 * import { ClosedError, IncompleteReadError } from "@socklab/core";
 * const err = new IncompleteReadError('Cannot receive from "127.0.0.1:50000": the peer closed the connection after 3 of 5 bytes', Buffer.from("abc"), 5);
 * err instanceof ClosedError; // true
 * err.partial.toString(); // "abc"
 * ```
 */
export class IncompleteReadError extends ClosedError {
  /** The bytes that arrived before the end of the stream. */
  readonly partial: Buffer;
  /** The number of bytes asked for, when the read asked for a number. */
  readonly expected: number | undefined;

  /**
   * @param message One line for users.
   * @param partial The bytes that arrived.
   * @param expected The number of bytes asked for, if any.
   */
  constructor(message: string, partial: Buffer, expected?: number) {
    super(message);
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
const DEFAULT_READ_TO_END_MAX = 64 * 1024 * 1024;
const DEFAULT_CLOSE_TIMEOUT_MS = 2000;
/** Node's timers fire at once for longer delays. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const RESOLVED: Promise<void> = Promise.resolve();
const EMPTY: Buffer = Buffer.alloc(0);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

// The kinds of the one pending read.
const NONE = 0;
const RECV = 1;
const CHUNK = 2;
const EXACT = 3;
const UNTIL = 4;
const TO_END = 5;
type ReadKind =
  | typeof NONE
  | typeof RECV
  | typeof CHUNK
  | typeof EXACT
  | typeof UNTIL
  | typeof TO_END;

// What an attempt to finish the pending read found; the value or error is in `#out`.
const NOT_READY = 0;
const READY = 1;
const FAILED = 2;
type Outcome = typeof NOT_READY | typeof READY | typeof FAILED;

/**
 * A connected stream socket (TCP or UNIX) with the reads of the tutorial's
 * `recv()` and the ones protocols need: exactly `n` bytes, up to a delimiter,
 * to the end. Writes respect backpressure and report errors as one-line
 * socklab errors.
 *
 * Reading: the connection reads ahead into a buffer of at most `maxBuffered`
 * bytes (then it pauses the socket until the buffer is half empty). Only one
 * read may be pending at a time. A read that fails on a timeout, an abort or a
 * limit consumes nothing: the bytes stay buffered for the next read. At the end
 * of the stream `recv()` returns an empty buffer, as in Python, and the other
 * reads reject with a {@linkcode ClosedError}.
 *
 * Like a Python socket the connection is half-open: the peer's FIN (`ended`)
 * does not end our side, so a server can still answer a request the client
 * finished with `end()`. Call {@linkcode StreamConnection.close} when done.
 *
 * @example
 * ```ts
 * import * as net from "node:net";
 * import { StreamConnection } from "@socklab/core";
 *
 * const server = net.createServer(async (socket) => {
 *   const conn = new StreamConnection(socket);
 *   for (;;) {
 *     const data = await conn.recv(4096);
 *     if (data.length === 0) break; // the client closed the connection
 *     await conn.write(data);
 *   }
 *   await conn.close();
 * });
 * ```
 */
export class StreamConnection implements AsyncIterable<Buffer> {
  /** The wrapped socket. Read from it only through this connection. */
  readonly socket: net.Socket;
  /** The peer in human form: `127.0.0.1:40390`, `[::1]:40390`, a UNIX socket path or `unnamed`. */
  readonly remote: string;
  #local: string | undefined;
  /** The peer's IP address and port; `undefined` for UNIX sockets. */
  readonly remoteAddress: StreamPeerAddress | undefined;

  readonly #queue = new ByteQueue();
  readonly #maxBuffered: number;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #paused = false;
  /** The peer sent FIN and every byte before it is in `#queue`. */
  #eof = false;
  /** What reads reject with once the buffer holds nothing more for them. */
  #errorValue: Error | undefined;
  /** Closed by us without an error: the `ClosedError` is built only if a read asks (a stack costs ~10 µs). */
  #closedQuietly = false;
  get #error(): Error | undefined {
    if (this.#errorValue === undefined && this.#closedQuietly)
      this.#errorValue = this.#closedError();
    return this.#errorValue;
  }
  set #error(err: Error | undefined) {
    this.#errorValue = err;
  }
  /** The first error the socket reported, to explain later writes. */
  #socketError: unknown;
  /** We close or destroyed the connection: incoming bytes are dropped. */
  #closing = false;
  #closeTimer: NodeJS.Timeout | undefined;

  // The one pending read.
  #kind: ReadKind = NONE;
  #size = 0;
  #delimiter: Buffer = EMPTY;
  /** For `readUntil()`: every delimiter start before this offset was ruled out. */
  #scanFrom = 0;
  #out: unknown;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timeoutMs = 0;
  #signal: AbortSignal | undefined;

  /** The last string delimiter and its bytes, so a loop of `readUntil("\n")` encodes it once. */
  #delimiterText = "";
  #delimiterBytes: Buffer = EMPTY;

  #onIdle: (() => void) | undefined;
  #idleMs = 0;
  #listensForIdle = false;

  /**
   * Wraps a connected socket and starts reading from it.
   *
   * @param socket A connected `net.Socket`: accepted by a server, or a client after `connect`.
   * @param options Read-ahead limit and names for UNIX socket ends.
   * @returns The connection.
   * @example
   * ```ts
   * import * as net from "node:net";
   * import { StreamConnection } from "@socklab/core";
   * const socket = net.connect("/tmp/echo.sock");
   * socket.once("connect", () => {
   *   const conn = new StreamConnection(socket, { remote: "/tmp/echo.sock" });
   *   conn.remote; // "/tmp/echo.sock"
   * });
   * ```
   */
  constructor(socket: net.Socket, options: StreamConnectionOptions = {}) {
    if (!(socket instanceof net.Socket)) {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_INVALID_SOCKET",
        `Cannot use ${describe(socket)} as a stream connection: it is not a net.Socket`,
      );
    }
    if (socket.connecting) {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_NOT_CONNECTED",
        'Cannot use a socket that is still connecting as a stream connection: wait for its "connect" event',
      );
    }
    const maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
    if (!Number.isSafeInteger(maxBuffered) || maxBuffered < 1) {
      throw invalidArgument(
        "range",
        "ERR_SOCKLAB_INVALID_SIZE",
        `Cannot use maxBuffered "${String(maxBuffered)}": it must be a whole number of bytes, at least 1`,
      );
    }
    this.socket = socket;
    this.#maxBuffered = maxBuffered;
    const { remoteAddress, remotePort, remoteFamily } = socket;
    this.remoteAddress =
      remoteAddress !== undefined && remotePort !== undefined
        ? {
            address: remoteAddress,
            family: remoteFamily === "IPv6" ? "IPv6" : "IPv4",
            port: remotePort,
          }
        : undefined;
    this.remote =
      options.remote ??
      (remoteAddress !== undefined && remotePort !== undefined
        ? formatEndpoint(remoteAddress, remotePort)
        : "unnamed");
    this.#local = options.local;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    // Python sockets are half-open; Node's only if asked: keep writing after the peer's FIN.
    socket.allowHalfOpen = true;
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
    if (socket.readableEnded) this.#eof = true;
    if (socket.destroyed) {
      this.#closing = true;
      this.#error =
        socket.errored === null
          ? this.#closedError()
          : toSocketError(socket.errored, { action: "receive from", address: this.remote });
      if (socket.closed) this.#resolveClosed();
    }
    socket.resume();
  }

  /** Our end in human form, like {@linkcode StreamConnection.remote} (looked up on first use). */
  get local(): string {
    if (this.#local === undefined) {
      const { localAddress, localPort } = this.socket;
      this.#local =
        localAddress !== undefined && localPort !== undefined
          ? formatEndpoint(localAddress, localPort)
          : "unnamed";
    }
    return this.#local;
  }

  /** Whether the peer has finished sending (it sent FIN) and every byte before it was read into the buffer. */
  get ended(): boolean {
    return this.#eof;
  }

  /** Settles when the socket is closed, for any reason. Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** The bytes read ahead from the socket that no read has consumed yet. */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** The bytes received from the socket so far. */
  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  /** The bytes handed to the socket for sending so far. */
  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  /**
   * Receives up to `max` bytes as soon as any are there, like Python's
   * `socket.recv(max)`.
   *
   * @param max The most bytes to return; at least 1.
   * @param options Timeout and abort signal.
   * @returns 1 to `max` bytes, or an empty buffer once the peer has closed the connection.
   * @example
   * ```ts
   * const data = await conn.recv(4096);
   * if (data.length === 0) console.log("peer closed the connection");
   * ```
   */
  recv(max: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(max) || max < 1) return Promise.reject(sizeError("max", max, 1));
    return this.#read(RECV, max, EMPTY, options) as Promise<Buffer>;
  }

  /**
   * Receives exactly `n` bytes.
   *
   * @param n The number of bytes; 0 returns an empty buffer at once.
   * @param options Timeout and abort signal.
   * @returns The `n` bytes.
   * @throws {IncompleteReadError} When the stream ends first; the bytes that came are in `partial`.
   * @example
   * ```ts
   * const header = await conn.readExactly(4);
   * const body = await conn.readExactly(header.readUInt32BE(0));
   * ```
   */
  readExactly(n: number, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(n) || n < 0) return Promise.reject(sizeError("n", n, 0));
    return this.#read(EXACT, n, EMPTY, options) as Promise<Buffer>;
  }

  /**
   * Receives bytes up to and including a delimiter, such as a line up to `"\n"`.
   *
   * @param delimiter The bytes that end what is read; a string is encoded as UTF-8. Not empty.
   * @param max The most bytes to return, delimiter included.
   * @param options Timeout and abort signal.
   * @returns The bytes, ending with the delimiter.
   * @throws {LimitExceededError} When `max` bytes arrive without the delimiter; they stay buffered.
   * @throws {IncompleteReadError} When the stream ends first; the bytes after the last delimiter are in `partial`.
   * @example
   * ```ts
   * const line = (await conn.readUntil("\n", 8192)).toString("utf8");
   * ```
   */
  readUntil(delimiter: string | Uint8Array, max: number, options?: ReadOptions): Promise<Buffer> {
    let bytes: Buffer;
    if (typeof delimiter === "string") {
      if (delimiter !== this.#delimiterText) {
        this.#delimiterText = delimiter;
        this.#delimiterBytes = Buffer.from(delimiter, "utf8");
      }
      bytes = this.#delimiterBytes;
    } else if (delimiter instanceof Uint8Array) {
      bytes = Buffer.from(delimiter.buffer, delimiter.byteOffset, delimiter.byteLength);
    } else {
      return Promise.reject(
        invalidArgument(
          "type",
          "ERR_SOCKLAB_INVALID_DELIMITER",
          `Cannot use ${describe(delimiter)} as a delimiter: it must be a string or a Uint8Array`,
        ),
      );
    }
    if (bytes.length === 0) {
      return Promise.reject(
        invalidArgument(
          "range",
          "ERR_SOCKLAB_INVALID_DELIMITER",
          "Cannot read up to an empty delimiter",
        ),
      );
    }
    if (!Number.isSafeInteger(max) || max < bytes.length) {
      return Promise.reject(sizeError("max", max, bytes.length));
    }
    return this.#read(UNTIL, max, bytes, options) as Promise<Buffer>;
  }

  /**
   * Receives everything until the peer closes the connection.
   *
   * @param max The most bytes to accept; default 64 MiB.
   * @param options Timeout and abort signal.
   * @returns Every byte the peer sent.
   * @throws {LimitExceededError} When more than `max` bytes arrive; they stay buffered.
   * @example
   * ```ts
   * await conn.end(request);
   * const reply = await conn.readToEnd(1024 * 1024);
   * ```
   */
  readToEnd(max: number = DEFAULT_READ_TO_END_MAX, options?: ReadOptions): Promise<Buffer> {
    if (!Number.isSafeInteger(max) || max < 0) return Promise.reject(sizeError("max", max, 0));
    return this.#read(TO_END, max, EMPTY, options) as Promise<Buffer>;
  }

  /**
   * Iterates over the received chunks, as they arrived, until the peer closes
   * the connection. Leaving the loop early leaves the connection open.
   *
   * @returns An iterator of chunks; it throws socklab errors.
   * @example
   * ```ts
   * for await (const chunk of conn) await conn.write(chunk);
   * await conn.close();
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer, undefined, undefined> {
    const next = () =>
      this.#read(CHUNK, 0, EMPTY, undefined) as Promise<IteratorResult<Buffer, undefined>>;
    return {
      next,
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Puts bytes back in front of the buffer, for a parser that read too far.
   * The next read returns them first. They are kept, not copied.
   *
   * @param data The bytes.
   * @returns Nothing.
   * @example
   * ```ts
   * const head = await conn.recv(4096);
   * const end = head.indexOf("\n\n");
   * conn.unshift(head.subarray(end + 2));
   * ```
   */
  unshift(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_INVALID_DATA",
        `Cannot unshift ${describe(data)}: it must be a Uint8Array`,
      );
    }
    if (this.#closing || data.length === 0) return;
    this.#queue.unshift(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.#scanFrom = 0;
    this.#attempt();
    this.#updateFlow();
  }

  /**
   * Sends bytes with backpressure, the way asyncio's `write()` + `drain()` do:
   * resolves at once while the socket's write buffer has room, and otherwise
   * when it has drained — so a loop that awaits each write goes no faster than
   * the peer reads, and a fast one pays no extra turn of the event loop per write.
   * A failure of a write that was already accepted rejects the next write, read
   * or close.
   *
   * @param data The bytes; a string is sent as UTF-8.
   * @returns Settles when there is room for more.
   * @throws {SocketError} When sending fails: `Cannot send to "127.0.0.1:50000": broken pipe (the peer closed the connection)`.
   * @example
   * ```ts
   * await conn.write("hello\n");
   * ```
   */
  write(data: string | Uint8Array): Promise<void> {
    if (typeof data !== "string" && !(data instanceof Uint8Array)) {
      return Promise.reject(
        invalidArgument(
          "type",
          "ERR_SOCKLAB_INVALID_DATA",
          `Cannot send ${describe(data)}: it must be a string or a Uint8Array`,
        ),
      );
    }
    const socket = this.socket;
    if (this.#socketError !== undefined || socket.destroyed || socket.writableEnded) {
      return new Promise((resolve, reject) => {
        socket.write(data, (err) => (err ? reject(this.#sendError(err)) : resolve()));
      });
    }
    if (socket.write(data, this.#onWritten)) return RESOLVED;
    return new Promise((resolve, reject) => {
      const settle = (err?: Error): void => {
        socket.off("drain", onDrain);
        socket.off("close", onClose);
        if (err) reject(this.#sendError(err));
        else resolve();
      };
      const onDrain = (): void => settle();
      const onClose = (): void =>
        settle(
          (this.#socketError as Error | undefined) ??
            Object.assign(new Error("The socket closed"), { code: "ERR_STREAM_DESTROYED" }),
        );
      socket.once("drain", onDrain);
      socket.once("close", onClose);
    });
  }

  /** A failed write that was accepted earlier: remembered for the next operation. */
  readonly #onWritten = (err?: Error | null): void => {
    if (err) this.#socketError ??= err;
  };

  /**
   * Sends the last bytes and a FIN (half-close): the peer reads the end of the
   * stream, and this side can go on reading its answer.
   *
   * @param data Bytes to send before the FIN.
   * @returns Settles when everything is sent and the FIN is on its way.
   * @example
   * ```ts
   * await conn.end("QUIT\n");
   * const rest = await conn.readToEnd();
   * ```
   */
  end(data?: string | Uint8Array): Promise<void> {
    const socket = this.socket;
    if (data === undefined && socket.writableFinished) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error | null) => {
        if (err) reject(this.#sendError(err));
        else resolve();
      };
      if (data === undefined) socket.end(done);
      else socket.end(data, done);
    });
  }

  /**
   * Closes the connection gracefully: stops reading (buffered bytes are
   * dropped), sends a FIN after what is still queued for sending, and waits
   * for the peer to close its side. Destroys the socket if the peer takes
   * longer than `timeoutMs`. Waiting avoids the reset a socket with unread
   * bytes sends on close, which can make the peer lose our last answer.
   *
   * @param options `timeoutMs`: how long to wait for the peer, default 2000.
   * @returns Settles when the socket is closed.
   * @example
   * ```ts
   * await conn.close();
   * ```
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    const bad = timeoutArgumentError(timeoutMs);
    if (bad) return Promise.reject(bad);
    if (!this.#closing) {
      this.#stopReading();
      if (!this.socket.destroyed) {
        this.socket.end();
        this.#closeTimer = setTimeout(StreamConnection.#onCloseTimer, timeoutMs, this);
        this.#closeTimer.unref();
      }
    }
    return this.#closed;
  }

  /**
   * Closes the connection at once, dropping whatever is buffered in either
   * direction. A pending read rejects with `reason`, or a {@linkcode ClosedError}.
   *
   * @param reason Why, for the pending and later reads.
   * @returns Nothing; await {@linkcode StreamConnection.closed} to know when the socket is closed.
   * @example
   * ```ts
   * conn.destroy();
   * await conn.closed;
   * ```
   */
  destroy(reason?: Error): void {
    if (!this.#closing) this.#stopReading(reason);
    this.socket.destroy();
  }

  /**
   * Watches for a connection without traffic: when nothing is sent or received
   * for `ms` milliseconds, calls `onIdle`, or without it destroys the
   * connection with a {@linkcode TimeoutError}.
   *
   * @param ms Milliseconds without traffic; 0 turns the watch off.
   * @param onIdle What to do instead of destroying the connection.
   * @returns Nothing.
   * @example
   * ```ts
   * conn.setIdleTimeout(30_000); // drop clients that stay silent for 30 s
   * ```
   */
  setIdleTimeout(ms: number, onIdle?: () => void): void {
    const bad = timeoutArgumentError(ms);
    if (bad) throw bad;
    this.#onIdle = onIdle;
    this.#idleMs = ms;
    if (!this.#listensForIdle) {
      this.#listensForIdle = true;
      this.socket.on("timeout", this.#onTimeout);
    }
    this.socket.setTimeout(ms);
  }

  // ---- reading ----

  #read(
    kind: ReadKind,
    size: number,
    delimiter: Buffer,
    options: ReadOptions | undefined,
  ): Promise<unknown> {
    if (this.#kind !== NONE) {
      return Promise.reject(
        invalidArgument(
          "type",
          "ERR_SOCKLAB_READ_PENDING",
          `Cannot receive from "${this.remote}": another read is still pending; await it first`,
        ),
      );
    }
    let timeoutMs: number | undefined;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      signal = options.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      timeoutMs = options.timeoutMs;
      if (timeoutMs !== undefined) {
        const bad = timeoutArgumentError(timeoutMs);
        if (bad) return Promise.reject(bad);
      }
    }
    this.#kind = kind;
    this.#size = size;
    this.#delimiter = delimiter;
    this.#scanFrom = 0;
    const outcome = this.#evaluate();
    if (outcome !== NOT_READY) {
      const out = this.#out;
      this.#out = undefined;
      this.#kind = NONE;
      this.#delimiter = EMPTY;
      this.#updateFlow();
      return outcome === READY ? Promise.resolve(out) : Promise.reject(out);
    }
    const promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (timeoutMs !== undefined) {
      this.#timeoutMs = timeoutMs;
      this.#timer = setTimeout(StreamConnection.#onReadTimer, timeoutMs, this);
    }
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    this.#updateFlow();
    return promise;
  }

  /** Tries to finish the pending read with what is buffered; leaves the value or error in `#out`. */
  #evaluate(): Outcome {
    const queue = this.#queue;
    const length = queue.length;
    switch (this.#kind) {
      case RECV:
        if (length > 0) {
          this.#out = queue.take(Math.min(length, this.#size));
          return READY;
        }
        if (this.#error === undefined && this.#eof) {
          this.#out = EMPTY;
          return READY;
        }
        break;
      case CHUNK:
        if (length > 0) {
          this.#out = { done: false, value: queue.shift() };
          return READY;
        }
        if (this.#error === undefined && this.#eof) {
          this.#out = DONE;
          return READY;
        }
        break;
      case EXACT:
        if (length >= this.#size) {
          this.#out = queue.take(this.#size);
          return READY;
        }
        if (this.#error === undefined && this.#eof) {
          this.#out = new IncompleteReadError(
            `Cannot receive from "${this.remote}": the peer closed the connection after ${length} of ${this.#size} bytes`,
            queue.takeAll(),
            this.#size,
          );
          return FAILED;
        }
        break;
      case UNTIL: {
        const delimiter = this.#delimiter;
        const max = this.#size;
        const found = queue.indexOf(delimiter, this.#scanFrom, max);
        if (found >= 0) {
          this.#out = queue.take(found + delimiter.length);
          return READY;
        }
        if (length >= max) {
          this.#out = new LimitExceededError(
            `Cannot receive from "${this.remote}": no ${quoteBytes(delimiter)} within ${max} bytes`,
            max,
          );
          return FAILED;
        }
        this.#scanFrom = Math.max(0, length - delimiter.length + 1);
        if (this.#error === undefined && this.#eof) {
          this.#out = new IncompleteReadError(
            `Cannot receive from "${this.remote}": the peer closed the connection after ${length} bytes without ${quoteBytes(delimiter)}`,
            queue.takeAll(),
          );
          return FAILED;
        }
        break;
      }
      case TO_END:
        if (length > this.#size) {
          this.#out = new LimitExceededError(
            `Cannot receive from "${this.remote}": more than ${this.#size} bytes before the end of the stream`,
            this.#size,
          );
          return FAILED;
        }
        if (this.#error === undefined && this.#eof) {
          this.#out = queue.takeAll();
          return READY;
        }
        break;
      default:
        return NOT_READY;
    }
    if (this.#error !== undefined) {
      this.#out = this.#error;
      return FAILED;
    }
    return NOT_READY;
  }

  /** Finishes the pending read if it can. */
  #attempt(): void {
    if (this.#kind === NONE) return;
    const outcome = this.#evaluate();
    if (outcome !== NOT_READY) this.#settle(outcome);
  }

  #settle(outcome: Outcome): void {
    const resolve = this.#resolve!;
    const reject = this.#reject!;
    const out = this.#out;
    this.#out = undefined;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#kind = NONE;
    this.#delimiter = EMPTY;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#signal !== undefined) {
      this.#signal.removeEventListener("abort", this.#onAbort);
      this.#signal = undefined;
    }
    if (outcome === READY) resolve(out);
    else reject(out);
  }

  /** Rejects the pending read, if any, keeping the buffered bytes. */
  #fail(err: unknown): void {
    if (this.#kind === NONE) return;
    this.#out = err;
    this.#settle(FAILED);
    this.#updateFlow();
  }

  /**
   * Pauses the socket while nobody waits and the buffer is full; resumes it
   * when a read waits or the buffer is half empty (not at once, so that a
   * reader taking small pieces does not toggle the socket on every read).
   */
  #updateFlow(): void {
    const length = this.#queue.length;
    if (this.#paused) {
      if (this.#kind !== NONE || length * 2 <= this.#maxBuffered || this.#closing) {
        this.#paused = false;
        this.socket.resume();
      }
    } else if (length >= this.#maxBuffered && this.#kind === NONE && !this.#closing) {
      this.#paused = true;
      this.socket.pause();
    }
  }

  #stopReading(err?: Error): void {
    this.#closing = true;
    this.#queue.clear();
    if (err === undefined) this.#closedQuietly = true;
    else this.#errorValue ??= err;
    if (this.#kind !== NONE) this.#fail(this.#error!);
    this.#updateFlow();
  }

  #closedError(): ClosedError {
    return new ClosedError(`Cannot receive from "${this.remote}": the connection is closed`);
  }

  #sendError(err: Error): Error {
    const code = (err as { code?: unknown }).code;
    if (
      this.#closing &&
      (code === "ERR_STREAM_WRITE_AFTER_END" || code === "ERR_STREAM_DESTROYED")
    ) {
      return new ClosedError(`Cannot send to "${this.remote}": the connection is closed`);
    }
    // A write that was cut short by the socket's own failure: report that failure.
    const cause =
      (code === "ERR_STREAM_DESTROYED" || code === "ECANCELED") && this.#socketError !== undefined
        ? this.#socketError
        : err;
    return toSocketError(cause, { action: "send to", address: this.remote });
  }

  // ---- socket events (one bound handler each, no closure per chunk) ----

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    this.#queue.push(chunk);
    if (this.#kind !== NONE) {
      const outcome = this.#evaluate();
      if (outcome !== NOT_READY) this.#settle(outcome);
    }
    this.#updateFlow();
  };

  readonly #onEnd = (): void => {
    this.#eof = true;
    this.#attempt();
  };

  readonly #onError = (err: Error): void => {
    this.#socketError ??= err;
    const syscall = (err as { syscall?: unknown }).syscall;
    const action = syscall === "write" || syscall === "shutdown" ? "send to" : "receive from";
    this.#error ??= toSocketError(err, { action, address: this.remote });
    this.#attempt();
  };

  readonly #onClose = (): void => {
    if (this.#closeTimer !== undefined) {
      clearTimeout(this.#closeTimer);
      this.#closeTimer = undefined;
    }
    if (!this.#eof) this.#error ??= this.#closedError();
    this.#attempt();
    this.#resolveClosed();
  };

  readonly #onAbort = (): void => {
    this.#fail(this.#signal?.reason);
  };

  readonly #onTimeout = (): void => {
    if (this.#idleMs === 0) return;
    if (this.#onIdle !== undefined) {
      this.#onIdle();
      return;
    }
    this.destroy(
      new TimeoutError(
        `Cannot keep "${this.remote}" open: no traffic for ${this.#idleMs} ms`,
        this.#idleMs,
      ),
    );
  };

  static #onReadTimer(conn: StreamConnection): void {
    conn.#timer = undefined;
    conn.#fail(
      new TimeoutError(
        `Cannot receive from "${conn.remote}": timed out after ${conn.#timeoutMs} ms`,
        conn.#timeoutMs,
      ),
    );
  }

  static #onCloseTimer(conn: StreamConnection): void {
    conn.#closeTimer = undefined;
    conn.socket.destroy();
  }
}

/** `127.0.0.1:80`, `[::1]:80`. */
function formatEndpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A delimiter for a one-line message: `"\r\n"`. */
function quoteBytes(bytes: Buffer): string {
  return JSON.stringify(bytes.toString("latin1"));
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `a ${(value as object).constructor?.name ?? "object"}`;
  return `${typeof value} "${String(value)}"`;
}

function sizeError(name: string, value: number, min: number): RangeError & { code: string } {
  return invalidArgument(
    "range",
    "ERR_SOCKLAB_INVALID_SIZE",
    `Cannot use ${name} "${String(value)}": it must be a whole number of bytes, at least ${min}`,
  ) as RangeError & { code: string };
}

function timeoutArgumentError(ms: number): (RangeError & { code: string }) | undefined {
  if (typeof ms === "number" && ms >= 0 && ms <= MAX_TIMEOUT_MS) return undefined;
  return invalidArgument(
    "range",
    "ERR_SOCKLAB_INVALID_TIMEOUT",
    `Cannot use timeout "${String(ms)}": it must be 0 to ${MAX_TIMEOUT_MS} milliseconds`,
  ) as RangeError & { code: string };
}
