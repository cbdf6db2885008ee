import type { Socket } from "node:net";
import {
  type ConnectionContext,
  type ConnectionHandler,
  invalidArgument,
  type StreamConnection,
} from "@socklab/core";
import {
  canBeginRequest,
  emptyHead,
  HEAD,
  OTHER,
  type ParsedHead,
  parseHead,
  parseRequestLine,
  plausibleRequestLine,
  Reason,
} from "./_http_head.ts";
import { Responses } from "./_responses.ts";

/** The tutorial's page (listing 3.2), byte for byte. */
export const HELLO_HTML =
  "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>";

/** Options of {@linkcode helloWeb}. */
export interface HelloWebOptions {
  /** The page served for `/` (default: the tutorial's {@linkcode HELLO_HTML}). */
  html?: string | Uint8Array;
  /** The most bytes a request head may have (request line, headers, blank line); default 8192. Larger: 431 (414 when the request line alone is too long). */
  maxHeadBytes?: number;
  /**
   * How long a client may take to send a whole request head, from connecting or from its first byte; default 10 000 ms. Then: 408.
   * Also how long a client may leave its answers unread before it is dropped.
   */
  headerTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open after an answer; default 5000 ms. */
  keepAliveTimeoutMs?: number;
  /**
   * How long to wait after a lone request line (no blank line after it, as the
   * tutorial's listing 3.3 sends) before answering it as HTTP/1.0; default 150 ms,
   * at most 200; 0 waits for the blank line like a strict server.
   */
  requestLineGraceMs?: number;
  /** A GET or HEAD may carry a `Content-Length` body up to this size, which is read and dropped; larger: 413. Default 65 536. */
  maxBodyBytes?: number;
  /** Called after each answer, for logs. */
  onRequest?: (request: HelloWebRequest) => void;
  /** Called with every chunk received, before it is parsed (for `--verbose` logs). */
  onReceive?: (data: Buffer, connection: StreamConnection) => void;
  /** Called with every answer as it is written (for traffic dumps). */
  onSend?: (data: Buffer, connection: StreamConnection) => void;
}

/** One answered request, as {@linkcode HelloWebOptions.onRequest} sees it. */
export interface HelloWebRequest {
  /** The connection it came on (`connection.remote` is the peer). */
  connection: StreamConnection;
  /** The request line as received, without CR LF, as latin1 text (cut at 1024 characters); `""` when none came. */
  requestLine: string;
  /** The status answered. */
  status: number;
  /** Why an error status was chosen (`""` for 200 and 404). */
  reason: string;
  /** The bytes of the answer (head and body). */
  bytes: number;
  /** Whether the connection stays open for another request. */
  keepAlive: boolean;
}

/** A hello-web handler: serve connections with it and refuse the ones over the limit with `onRefused`. */
export interface HelloWebHandler {
  /** Serves one connection (a {@linkcode ConnectionHandler}). */
  (connection: StreamConnection, context: ConnectionContext): Promise<void>;
  /**
   * For `StreamServerOptions.onRefused`: answers a connection over the limit
   * with `503 Service Unavailable`, reading and dropping its request so that
   * closing does not reset the connection.
   */
  readonly onRefused: (socket: Socket) => Uint8Array;
}

const DEFAULTS = {
  maxHeadBytes: 8192,
  headerTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  requestLineGraceMs: 150,
  maxBodyBytes: 65_536,
} as const;

const LF = 10;
const CR = 13;
const LOG_LINE_MAX = 1024;
/** How long a refused client may take to read the 503 and close. */
const REFUSED_CLOSE_MS = 2000;
/**
 * Answers waiting in the socket's buffer past which the handler answers no
 * more pipelined requests until the client has read them: so the output of a
 * client that sends fast and reads slowly stays this small.
 */
const MAX_UNSENT = 64 * 1024;

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use ${name} "${String(value)}": it must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** What every connection of one handler shares. */
interface Shared {
  readonly responses: Responses;
  /** One parse result for all: parsing and answering are synchronous. */
  readonly head: ParsedHead;
  readonly maxHead: number;
  readonly maxBody: number;
  readonly headerTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly graceMs: number;
  readonly onRequest: ((request: HelloWebRequest) => void) | undefined;
  readonly onReceive: ((data: Buffer, connection: StreamConnection) => void) | undefined;
  readonly onSend: ((data: Buffer, connection: StreamConnection) => void) | undefined;
  readonly lineTooLong: string;
  readonly headTooLarge: string;
  readonly bodyTooLarge: string;
  /** Connections being served: checked for deadlines, and closed when idle as their server closes. */
  readonly live: Set<WebConnection>;
  /** Checks the deadlines of `live` while it is not empty. */
  sweeper: NodeJS.Timeout | undefined;
  /** How often the sweeper runs: a tenth of the shorter timeout, 5 ms to 1 s. */
  readonly sweepMs: number;
  /** Server signals with an abort listener already. */
  readonly watched: WeakSet<AbortSignal>;
}

/**
 * The tutorial's web server (listing 3.2) made real, as a connection handler:
 * answers `GET /` with the tutorial's "Hallo Welt!" page on every connection,
 * request after request.
 *
 * - Reads until the request head is complete (CR LF CR LF, or LF LF), however
 *   the bytes are split; a head over 8 KiB gets 431 (414 when the request line
 *   alone is that long).
 * - A first byte that no method begins with (a TLS ClientHello, binary junk)
 *   gets 400 at once.
 * - Checks the request line in the spirit of the tutorial's regex: malformed →
 *   400, a method other than GET/HEAD → 405 with `Allow: GET, HEAD`, a version
 *   other than HTTP/1.0 or 1.1 → 505. Header lines without a colon, folded
 *   lines, whitespace before a colon, control characters, a missing or doubled
 *   `Host` in HTTP/1.1 and a bad `Content-Length` → 400. A body announced by
 *   `Content-Length` (up to `maxBodyBytes`) is read and dropped; a body with
 *   `Transfer-Encoding` → 400 (a GET has no use for one, and refusing is the
 *   safe answer to request smuggling).
 * - A lone request line (listing 3.3 sends `GET / HTTP/1.0\r\n` and waits) is
 *   answered after `requestLineGraceMs` as HTTP/1.0: a period in which the
 *   handler waited for the client, not for the client to read its answers.
 * - `/` (also `/?query`, `http://host/`, `/./`, percent-encoded forms) → 200
 *   with the page, `content-type: text/html; charset=utf-8`, `content-length`,
 *   `date`; other paths → 404; HEAD → the same headers, no body.
 * - Keep-alive: HTTP/1.1 stays open unless `Connection: close`; HTTP/1.0 closes
 *   unless it asks for `keep-alive`; pipelined requests are answered in order,
 *   every one of them: at most 64 KiB of answers wait unsent before the handler
 *   waits for the client to read them (reading stops too, past the server's
 *   `maxBuffered`), and the client's timeouts stand still meanwhile.
 *   Idle keep-alive connections close after `keepAliveTimeoutMs`; a client that
 *   sends nothing, or not a whole head within `headerTimeoutMs`, gets 408.
 * - Every error answer closes the connection gracefully: FIN after the
 *   answer, then unread bytes are read and dropped until the client closes,
 *   so the client never gets a reset instead of its answer.
 * - When the server closes, idle connections close at once and busy ones after
 *   their current answer.
 *
 * @param options Limits, timeouts, the page and log callbacks.
 * @returns The handler, with `onRefused` for the server's connection limit.
 * @example
 * ```ts
 * import { helloWeb, listenTcp } from "@socklab/tcp-server";
 * const web = helloWeb({ onRequest: (r) => console.log(r.requestLine, r.status) });
 * const server = await listenTcp({ host: "127.0.0.1", port: 0, handler: web, onRefused: web.onRefused });
 * // curl http://127.0.0.1:PORT/ → <h1>Hallo Welt!</h1>
 * await server.close();
 * ```
 */
export function helloWeb(options: HelloWebOptions = {}): HelloWebHandler {
  const maxHead = checkNumber(
    "maxHeadBytes",
    options.maxHeadBytes ?? DEFAULTS.maxHeadBytes,
    64,
    1024 * 1024,
  );
  const keepAliveTimeoutMs = checkNumber(
    "keepAliveTimeoutMs",
    options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
    1,
    2 ** 31 - 1,
  );
  const html = options.html ?? HELLO_HTML;
  if (typeof html !== "string" && !(html instanceof Uint8Array)) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_OPTION",
      "Cannot use html: it must be a string or a Uint8Array",
    );
  }
  const page = typeof html === "string" ? Buffer.from(html, "utf8") : Buffer.from(html);
  const maxBody = checkNumber(
    "maxBodyBytes",
    options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  const shared: Shared = {
    responses: new Responses(page, keepAliveTimeoutMs),
    head: emptyHead(),
    maxHead,
    maxBody,
    headerTimeoutMs: checkNumber(
      "headerTimeoutMs",
      options.headerTimeoutMs ?? DEFAULTS.headerTimeoutMs,
      1,
      2 ** 31 - 1,
    ),
    keepAliveTimeoutMs,
    graceMs: checkNumber(
      "requestLineGraceMs",
      options.requestLineGraceMs ?? DEFAULTS.requestLineGraceMs,
      0,
      200,
    ),
    onRequest: options.onRequest,
    onReceive: options.onReceive,
    onSend: options.onSend,
    lineTooLong: `request line longer than ${maxHead} bytes`,
    headTooLarge: `request head longer than ${maxHead} bytes`,
    bodyTooLarge: `request body larger than ${maxBody} bytes`,
    live: new Set(),
    sweeper: undefined,
    sweepMs: 0,
    watched: new WeakSet(),
  };
  (shared as { sweepMs: number }).sweepMs = Math.max(
    5,
    Math.min(1000, Math.floor(Math.min(shared.headerTimeoutMs, keepAliveTimeoutMs) / 10)),
  );
  const refused = (socket: Socket): Uint8Array => {
    // Read and drop the request, so that closing never resets the connection
    // (and the 503 with it); give up on a client that never closes.
    socket.resume();
    socket.setTimeout(REFUSED_CLOSE_MS, () => socket.destroy());
    return shared.responses.error(503, "too many connections; try again later", false);
  };
  const handler = (connection: StreamConnection, context: ConnectionContext): Promise<void> => {
    const signal = context.signal;
    if (!shared.watched.has(signal)) {
      shared.watched.add(signal);
      signal.addEventListener("abort", () => closeIdle(shared, signal), { once: true });
    }
    return new WebConnection(shared, connection, signal).serve();
  };
  return Object.assign(handler, { onRefused: refused });
}

/**
 * Enforces the header and keep-alive timeouts of every connection: one timer
 * for all instead of one per connection (a connection then costs no timer at
 * all, which matters when each carries one request).
 */
function sweep(shared: Shared): void {
  if (shared.live.size === 0) {
    clearInterval(shared.sweeper);
    shared.sweeper = undefined;
    return;
  }
  const now = Date.now();
  for (const web of shared.live) {
    if (web.deadline !== 0 && now >= web.deadline) web.expire();
  }
}

function closeIdle(shared: Shared, signal: AbortSignal): void {
  for (const web of shared.live) {
    if (
      web.signal === signal &&
      web.pending === undefined &&
      web.held === undefined &&
      web.discard === 0
    ) {
      web.finish();
    }
  }
}

/** Resolves when the socket can take more, or is gone. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

/** One connection of the hello-web handler. */
class WebConnection {
  readonly shared: Shared;
  readonly conn: StreamConnection;
  readonly socket: Socket;
  readonly signal: AbortSignal;
  /** The start of a request head that has not ended yet. */
  pending: Buffer | undefined = undefined;
  /** Where in `pending` the line not yet seen whole starts. */
  scanFrom = 0;
  /** Whether the first line of `pending` has been checked. */
  lineChecked = false;
  /** Body bytes still to read and drop. */
  discard = 0;
  /** Answers sent. */
  served = 0;
  /** The answer that closes the connection is out (or the connection is gone). */
  finished = false;
  /** When the current head began (the connection start for the first); 0 when no head is open. */
  headSince: number;
  /**
   * When the sweeper acts (0: never): a head not complete by then gets 408
   * (the connection start counts as the start of the first head); after an
   * answer, the time an idle keep-alive connection is closed.
   */
  deadline: number;
  /** `pending` is a lone request line: the grace timer runs whenever the handler waits for more. */
  lone = false;
  graceTimer: NodeJS.Timeout | undefined = undefined;
  /** Received requests not answered yet: the client has not read the answers before them. */
  held: Buffer | undefined = undefined;
  /** While waiting for the client to read: the unsent bytes when it last made progress; -1 otherwise. */
  unsent = -1;

  constructor(shared: Shared, conn: StreamConnection, signal: AbortSignal) {
    this.shared = shared;
    this.conn = conn;
    this.socket = conn.socket;
    this.signal = signal;
    this.headSince = Date.now();
    this.deadline = this.headSince + shared.headerTimeoutMs;
  }

  /**
   * The deadline passed: 408 while a head is open (or none came yet), else
   * close the idle connection; while waiting for the client to read, drop a
   * client that read nothing since the last deadline.
   */
  expire(): void {
    if (this.finished) return;
    if (this.unsent >= 0) {
      const unsent = this.socket.writableLength;
      if (unsent < this.unsent) {
        this.unsent = unsent;
        this.deadline = Date.now() + this.shared.headerTimeoutMs;
      } else {
        // Its answers cannot be delivered: nothing is lost by dropping it.
        this.finished = true;
        this.#clearTimers();
        this.conn.destroy();
      }
      return;
    }
    this.deadline = 0;
    if (this.headSince !== 0) this.#timedOut();
    else this.finish();
  }

  async serve(): Promise<void> {
    const shared = this.shared;
    if (this.signal.aborted) return;
    shared.live.add(this);
    shared.sweeper ??= setInterval(sweep, shared.sweepMs, shared).unref();
    const chunks = this.conn[Symbol.asyncIterator]();
    try {
      while (!this.finished) {
        const held = this.held;
        if (held !== undefined) {
          this.held = undefined;
          this.#onData(held, false);
        } else {
          // Only now, waiting for the client, does a lone request line count as one.
          if (this.lone && this.graceTimer === undefined) {
            this.graceTimer = setTimeout(WebConnection.#onGrace, shared.graceMs, this);
          }
          const next = await chunks.next();
          if (next.done === true) {
            this.#atEnd();
            break;
          }
          this.#onData(next.value, true);
        }
        if (!this.finished && this.socket.writableNeedDrain) await this.#drained();
      }
    } catch (err) {
      // finish() closed the connection under a pending read.
      if (!this.finished) throw err;
    } finally {
      this.finished = true;
      this.#clearTimers();
      shared.live.delete(this);
    }
  }

  /** Closes the connection after what is written (from a timer or the server closing). */
  finish(): void {
    this.finished = true;
    this.#clearTimers();
    void this.conn.close();
  }

  /**
   * Waits until the client has read enough of the answers. The client's clocks
   * (header and keep-alive timeouts) stand still meanwhile: the handler reads
   * nothing while it waits, so the client cannot be late. A client that reads
   * nothing of its answers for `headerTimeoutMs` is dropped.
   */
  async #drained(): Promise<void> {
    const deadline = this.deadline;
    const since = Date.now();
    this.unsent = this.socket.writableLength;
    this.deadline = since + this.shared.headerTimeoutMs;
    await drained(this.socket);
    this.unsent = -1;
    if (!this.finished) this.deadline = deadline === 0 ? 0 : deadline + (Date.now() - since);
  }

  #clearTimers(): void {
    this.deadline = 0;
    if (this.graceTimer !== undefined) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
  }

  /** Answers the requests in `chunk`; `fresh` when it was just received (not `held`). */
  #onData(chunk: Buffer, fresh: boolean): void {
    const shared = this.shared;
    if (fresh && shared.onReceive !== undefined) shared.onReceive(chunk, this.conn);
    if (this.graceTimer !== undefined) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
    let buf = chunk;
    let pos = 0;
    let scanFrom = 0;
    if (this.discard > 0) {
      if (chunk.length <= this.discard) {
        this.discard -= chunk.length;
        return;
      }
      pos = this.discard;
      scanFrom = pos;
      this.discard = 0;
    } else if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk]);
      scanFrom = this.scanFrom;
      this.pending = undefined;
    }
    const length = buf.length;
    const head = shared.head;
    let corked = false;
    while (pos < length) {
      // Empty lines before a request line are ignored (RFC 9112 section 2.2).
      if (scanFrom === pos) {
        let c = buf[pos];
        while (c === LF || (c === CR && buf[pos + 1] === LF)) {
          pos += c === LF ? 1 : 2;
          c = buf[pos];
        }
        if (pos >= length) break;
        // No method begins with this byte: refuse now rather than after the header timeout.
        if (!canBeginRequest(c!) && !(c === CR && pos + 1 === length)) {
          this.#refuse(buf.subarray(pos), 400, c === 0x16 ? Reason.tls : Reason.notHttp);
          break;
        }
        scanFrom = pos;
      }
      // Find the blank line that ends the head.
      let p = scanFrom;
      let end = -1;
      for (;;) {
        const lf = buf.indexOf(LF, p);
        if (lf < 0) break;
        if (p !== pos && (lf === p || (lf === p + 1 && buf[p] === CR))) {
          end = lf + 1;
          break;
        }
        p = lf + 1;
      }
      if (end < 0) {
        this.#partial(buf, pos, p);
        break;
      }
      this.#headDone();
      if (end - pos > shared.maxHead) {
        this.#tooLarge(buf.subarray(pos, end));
        break;
      }
      if (!corked && end < length) {
        this.socket.cork();
        corked = true;
      }
      parseHead(buf, pos, end, head);
      this.#answer(buf, pos);
      if (this.finished) break;
      pos = end;
      const body = head.contentLength;
      if (body > 0) {
        if (length - pos >= body) {
          pos += body;
        } else {
          this.discard = body - (length - pos);
          pos = length;
        }
      }
      scanFrom = pos;
      if (pos < length && this.socket.writableLength > MAX_UNSENT) {
        this.held = buf.subarray(pos);
        break;
      }
    }
    if (corked) this.socket.uncork();
  }

  /** Writes the answer for `shared.head`; the request line starts at `lineStart`. */
  #answer(buf: Buffer, lineStart: number): void {
    const shared = this.shared;
    const head = shared.head;
    if (head.status === 0 && head.contentLength > shared.maxBody) {
      head.status = 413;
      head.reason = shared.bodyTooLarge;
    }
    let bytes: Buffer;
    let keepAlive = false;
    if (head.status === 0) {
      keepAlive = head.keepAlive && !this.signal.aborted;
      bytes = shared.responses.page(head.root, head.method === HEAD, keepAlive);
    } else {
      bytes = shared.responses.error(head.status, head.reason, head.method === HEAD);
    }
    this.socket.write(bytes);
    shared.onSend?.(bytes, this.conn);
    this.served += 1;
    if (shared.onRequest !== undefined) {
      shared.onRequest({
        connection: this.conn,
        requestLine: buf.toString(
          "latin1",
          lineStart,
          Math.min(head.lineEnd, lineStart + LOG_LINE_MAX),
        ),
        status: head.status === 0 ? (head.root ? 200 : 404) : head.status,
        reason: head.reason,
        bytes: bytes.length,
        keepAlive,
      });
    }
    if (keepAlive) this.deadline = Date.now() + shared.keepAliveTimeoutMs;
    else this.finished = true;
  }

  /** Answers an error for a head that never completed (`pending` holds it), then closes. */
  #refuse(buf: Buffer, status: number, reason: string): void {
    const head = this.shared.head;
    let lineEnd = buf.indexOf(LF);
    if (lineEnd < 0) lineEnd = buf.length;
    else if (lineEnd > 0 && buf[lineEnd - 1] === CR) lineEnd -= 1;
    head.status = status;
    head.reason = reason;
    head.method = OTHER;
    head.lineEnd = lineEnd;
    this.#answer(buf, 0);
  }

  /** Keeps the start of an unfinished head; checks what can be checked already. */
  #partial(buf: Buffer, pos: number, lineFrom: number): void {
    const shared = this.shared;
    const rest = pos === 0 ? buf : buf.subarray(pos);
    this.pending = rest;
    this.scanFrom = lineFrom - pos;
    if (rest.length >= shared.maxHead) {
      this.#tooLarge(rest);
      return;
    }
    const firstLf = this.scanFrom > 0 ? rest.indexOf(LF) : -1;
    if (firstLf >= 0 && !this.lineChecked) {
      const head = shared.head;
      parseRequestLine(
        rest,
        0,
        firstLf > 0 && rest[firstLf - 1] === CR ? firstLf - 1 : firstLf,
        head,
      );
      if (head.status !== 0) {
        this.pending = undefined;
        this.#answer(rest, 0);
        return;
      }
      this.lineChecked = true;
    }
    // Only a request line so far: the tutorial's client waits here for its
    // answer. The grace timer starts when the handler next waits for the client
    // (not while it waits for the client to read its answers).
    this.lone = shared.graceMs > 0 && firstLf >= 0 && firstLf === rest.length - 1;
    if (this.headSince === 0) {
      this.headSince = Date.now();
      this.deadline = this.headSince + shared.headerTimeoutMs;
    }
  }

  /** A head is complete: its deadline and grace period are over. */
  #headDone(): void {
    this.lineChecked = false;
    this.lone = false;
    this.headSince = 0;
    this.deadline = 0;
  }

  /** 414 when the request line alone passes the limit (431 for the head; 400 when it is no request line). */
  #tooLarge(head: Buffer): void {
    const shared = this.shared;
    const lf = head.indexOf(LF);
    this.pending = undefined;
    if (lf < 0 || lf >= shared.maxHead) {
      const end = lf < 0 ? head.length : lf;
      if (plausibleRequestLine(head, 0, end)) this.#refuse(head, 414, shared.lineTooLong);
      else this.#refuse(head, 400, Reason.malformedLine);
    } else {
      this.#refuse(head, 431, shared.headTooLarge);
    }
  }

  /** The client finished sending: answer what it sent, if anything, then close. */
  #atEnd(): void {
    const rest = this.pending;
    this.pending = undefined;
    this.#clearTimers();
    if (rest === undefined || this.discard > 0) return;
    if (rest[rest.length - 1] === LF) {
      // Whole lines but no blank line: answer them as the head (as HTTP/1.0 when only a request line came).
      const head = this.shared.head;
      const lone = rest.indexOf(LF) === rest.length - 1;
      parseHead(rest, 0, rest.length, head, lone);
      head.keepAlive = false;
      this.#answer(rest, 0);
    } else {
      this.#refuse(rest, 400, Reason.incomplete);
    }
  }

  #timedOut(): void {
    const rest = this.pending ?? Buffer.alloc(0);
    this.pending = undefined;
    this.#refuse(rest, 408, Reason.headerTimeout);
    this.finish();
  }

  static #onGrace(self: WebConnection): void {
    self.graceTimer = undefined;
    const rest = self.pending;
    // Bytes already here (read ahead, not yet handed over) are what comes after the line.
    if (self.finished || rest === undefined || !self.lone || self.conn.bufferedBytes > 0) return;
    self.pending = undefined;
    self.lone = false;
    parseHead(rest, 0, rest.length, self.shared.head, true);
    self.#answer(rest, 0);
    self.finish();
  }
}
