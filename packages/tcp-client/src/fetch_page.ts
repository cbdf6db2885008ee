import {
  IncompleteReadError,
  invalidArgument,
  LimitExceededError,
  type ReadOptions,
  type StreamConnection,
} from "@socklab/core";
import { badResponse, parseResponseHead } from "./_http_head.ts";
import { connectTcp } from "./connect_tcp.ts";

/** Options for {@linkcode fetchPage}. */
export interface FetchPageOptions {
  /** The server's host name or IP address (IPv6 without brackets). */
  host: string;
  /** The server's port. */
  port: number;
  /** The request target. Default `/`. */
  path?: string;
  /** The request method. Default `GET`; `HEAD` expects no body. */
  method?: string;
  /** The HTTP version of the request. Default `1.0`, as in the tutorial; `1.1` adds `Host` and `Connection: close`. */
  version?: "1.0" | "1.1";
  /** More header fields to send. */
  headers?: Record<string, string>;
  /** For connecting, and for each wait for bytes of the answer, in milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Stops the exchange; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The most bytes of body to accept. Default 16 MiB. */
  maxBytes?: number;
}

/** What {@linkcode fetchPage} got back. */
export interface Page {
  /** Every byte the server sent, head and body, as it sent them. */
  raw: Buffer;
  /** The server's HTTP version, such as `1.0`. */
  version: string;
  /** The status code, such as 200. */
  status: number;
  /** The reason phrase, such as `OK`. */
  reason: string;
  /** Header fields by lower-case name; repeated fields joined with `, `. */
  headers: Record<string, string>;
  /** The body (de-chunked when the server sent it in chunks). */
  body: Buffer;
  /** The address that answered, such as `127.0.0.1:50000`. */
  remote: string;
}

const MAX_HEAD = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
const READ_SIZE = 64 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Does the tutorial's client exchange (3.2): connects, sends a request such as
 * `GET / HTTP/1.0` followed by the blank line that ends the request head, and
 * reads the whole answer. The answer ends where its `content-length` or its
 * last chunk says, or else when the server closes the connection, so a server
 * that keeps the connection open still gives its page; waiting longer than
 * `timeoutMs` for the next bytes is an error.
 *
 * @param options Host, port, path, method, version, headers and limits.
 * @returns The raw answer, its status line, header fields and body.
 * @throws {SocketError} When connecting or reading fails.
 * @throws {TimeoutError} When the server stays silent for `timeoutMs`.
 * @throws {SocklabError} `ERR_SOCKLAB_BAD_RESPONSE` when the answer is not HTTP or is cut short.
 * @throws {LimitExceededError} When the body is larger than `maxBytes`.
 * @example
 * ```ts
 * import { fetchPage } from "@socklab/tcp-client";
 *
 * const page = await fetchPage({ host: "localhost", port: 50000 });
 * page.status; // 200
 * page.body.toString("utf8").includes("Hallo Welt!"); // true
 * ```
 */
export async function fetchPage(options: FetchPageOptions): Promise<Page> {
  const path = options.path ?? "/";
  const method = options.method ?? "GET";
  const version = options.version ?? "1.0";
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const request = buildRequest(options.host, options.port, path, method, version, options.headers);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_SIZE",
      `Cannot use maxBytes "${String(maxBytes)}": it must be a whole number of bytes`,
    );
  }
  const conn = await connectTcp({
    host: options.host,
    port: options.port,
    timeoutMs,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const read: ReadOptions = {
    ...(timeoutMs > 0 ? { timeoutMs } : {}),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  try {
    await conn.write(request);
    return await readResponse(conn, method === "HEAD", maxBytes, read);
  } finally {
    // A server that closed gets our FIN; one that keeps the connection open is cut off.
    if (conn.ended) await conn.close();
    else conn.destroy();
  }
}

function buildRequest(
  host: string,
  port: number,
  path: string,
  method: string,
  version: string,
  headers: Record<string, string> = {},
): string {
  if (typeof method !== "string" || !TOKEN.test(method)) {
    throw requestError(
      `Cannot send method ${JSON.stringify(method)}: it must be a token such as GET`,
    );
  }
  if (typeof path !== "string" || !/^[\x21-\x7e]+$/.test(path)) {
    throw requestError(
      `Cannot request path ${JSON.stringify(path)}: it must be printable ASCII without spaces, such as /index.html`,
    );
  }
  if (version !== "1.0" && version !== "1.1") {
    throw requestError(`Cannot use HTTP version ${JSON.stringify(version)}: use "1.0" or "1.1"`);
  }
  let head = `${method} ${path} HTTP/${version}\r\n`;
  const names = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw requestError(`Cannot send header name ${JSON.stringify(name)}`);
    if (typeof value !== "string" || /[\r\n\0]/.test(value)) {
      throw requestError(`Cannot send header "${name}": its value must be one line of text`);
    }
    names.add(name.toLowerCase());
    head += `${name}: ${value}\r\n`;
  }
  if (version === "1.1") {
    if (!names.has("host")) head += `Host: ${host.includes(":") ? `[${host}]` : host}:${port}\r\n`;
    if (!names.has("connection")) head += "Connection: close\r\n";
  }
  return `${head}\r\n`;
}

function requestError(message: string): TypeError {
  return invalidArgument("type", "ERR_SOCKLAB_INVALID_REQUEST", message);
}

async function readResponse(
  conn: StreamConnection,
  head: boolean,
  maxBytes: number,
  read: ReadOptions,
): Promise<Page> {
  const from = conn.remote;
  const raw: Buffer[] = [];
  for (;;) {
    const headBytes = await readHead(conn, read);
    raw.push(headBytes);
    const parsed = parseResponseHead(headBytes, from);
    // An interim answer (100 Continue) is followed by the real one.
    if (parsed.status >= 100 && parsed.status < 200 && parsed.status !== 101) continue;
    const noBody = head || parsed.status === 204 || parsed.status === 304 || parsed.status < 200;
    const chunked = /(^|,)\s*chunked\s*$/i.test(parsed.headers["transfer-encoding"] ?? "");
    let body: Buffer;
    if (noBody) body = Buffer.alloc(0);
    else if (chunked) body = await readChunked(conn, raw, maxBytes, read);
    else body = await readBody(conn, raw, contentLength(parsed.headers, from), maxBytes, read);
    return { raw: Buffer.concat(raw), ...parsed, body, remote: from };
  }
}

async function readHead(conn: StreamConnection, read: ReadOptions): Promise<Buffer> {
  try {
    return await conn.readUntil("\r\n\r\n", MAX_HEAD, read);
  } catch (err) {
    if (err instanceof IncompleteReadError) {
      throw badResponse(
        conn.remote,
        `the server closed the connection after ${err.partial.length} bytes, before the end of the head`,
      );
    }
    if (err instanceof LimitExceededError) {
      throw badResponse(conn.remote, `no end of the head within ${MAX_HEAD} bytes`);
    }
    throw err;
  }
}

function contentLength(headers: Record<string, string>, from: string): number | undefined {
  const value = headers["content-length"];
  if (value === undefined) return undefined;
  // Repeated equal values ("5, 5") are allowed (RFC 9110 §8.6).
  const values = new Set(value.split(",").map((v) => v.trim()));
  const only = values.size === 1 ? [...values][0]! : "";
  if (!/^\d{1,15}$/.test(only)) {
    throw badResponse(from, `the content-length ${JSON.stringify(value)} is not a number`);
  }
  return Number(only);
}

function tooLarge(from: string, maxBytes: number): LimitExceededError {
  return new LimitExceededError(
    `Cannot receive from "${from}": the body is larger than ${maxBytes} bytes`,
    maxBytes,
  );
}

async function readBody(
  conn: StreamConnection,
  raw: Buffer[],
  length: number | undefined,
  maxBytes: number,
  read: ReadOptions,
): Promise<Buffer> {
  if (length !== undefined && length > maxBytes) throw tooLarge(conn.remote, maxBytes);
  const parts: Buffer[] = [];
  let got = 0;
  while (length === undefined || got < length) {
    const want = length === undefined ? READ_SIZE : Math.min(READ_SIZE, length - got);
    const chunk = await conn.recv(want, read);
    if (chunk.length === 0) {
      if (length === undefined) break;
      throw badResponse(
        conn.remote,
        `the server closed the connection after ${got} of ${length} body bytes`,
      );
    }
    got += chunk.length;
    if (got > maxBytes) throw tooLarge(conn.remote, maxBytes);
    parts.push(chunk);
    raw.push(chunk);
  }
  return Buffer.concat(parts, got);
}

async function readChunked(
  conn: StreamConnection,
  raw: Buffer[],
  maxBytes: number,
  read: ReadOptions,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  for (;;) {
    const line = await chunkStep(conn, conn.readUntil("\r\n", MAX_CHUNK_LINE, read));
    raw.push(line);
    const size = /^([0-9a-fA-F]{1,8})[ \t]*(;[^\r\n]*)?\r\n$/.exec(line.toString("latin1"));
    if (size === null) {
      throw badResponse(
        conn.remote,
        `bad chunk size line ${JSON.stringify(line.toString("latin1"))}`,
      );
    }
    const n = Number.parseInt(size[1]!, 16);
    if (n === 0) break;
    if (got + n > maxBytes) throw tooLarge(conn.remote, maxBytes);
    const data = await chunkStep(conn, conn.readExactly(n + 2, read));
    raw.push(data);
    if (data[n] !== 0x0d || data[n + 1] !== 0x0a) {
      throw badResponse(conn.remote, "a chunk does not end with CRLF");
    }
    parts.push(data.subarray(0, n));
    got += n;
  }
  // Trailer fields, then the blank line.
  for (;;) {
    const line = await chunkStep(conn, conn.readUntil("\r\n", MAX_CHUNK_LINE, read));
    raw.push(line);
    if (line.length === 2) break;
  }
  return Buffer.concat(parts, got);
}

/** One read of a chunked body, with the stream's errors said in HTTP terms. */
async function chunkStep(conn: StreamConnection, step: Promise<Buffer>): Promise<Buffer> {
  try {
    return await step;
  } catch (err) {
    if (err instanceof IncompleteReadError) {
      throw badResponse(conn.remote, "the server closed the connection before the last chunk");
    }
    if (err instanceof LimitExceededError) {
      throw badResponse(conn.remote, `a chunk line is longer than ${MAX_CHUNK_LINE} bytes`);
    }
    throw err;
  }
}
