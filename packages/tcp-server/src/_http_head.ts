/**
 * The request-head parser of the hello-web handler: bytes in, a verdict out,
 * no regular expression and no string per header on the way (the page is
 * served tens of thousands of times a second). Strings are only made for the
 * rare paths: a target other than `/`, and the log line.
 *
 * @module
 */

/** `GET`. */
export const GET = 1;
/** `HEAD`. */
export const HEAD = 2;
/** Any other method (answered with 405). */
export const OTHER = 0;

/** What {@linkcode parseHead} found; one object is reused for every head. */
export interface ParsedHead {
  /** 0 when the request is fine, else the status to answer with (400, 405, 413, 414, 431, 505). */
  status: number;
  /** Why the status was chosen, for the log and the error page (`""` when fine). */
  reason: string;
  /** {@linkcode GET}, {@linkcode HEAD} or {@linkcode OTHER} (0 too when the line is malformed). */
  method: number;
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  version: number;
  /** Where the request line ends (before CR LF). */
  lineEnd: number;
  /** Whether the path is `/` (after the query is cut off, percent-decoding and dot segments). */
  root: boolean;
  /** Whether the connection stays open after the answer. */
  keepAlive: boolean;
  /** The body length the client announced (`Content-Length`), 0 without one. */
  contentLength: number;
}

/** A fresh {@linkcode ParsedHead}. */
export function emptyHead(): ParsedHead {
  return {
    status: 0,
    reason: "",
    method: OTHER,
    version: 11,
    lineEnd: 0,
    root: false,
    keepAlive: false,
    contentLength: 0,
  };
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const SLASH = 47;

/** RFC 9110 `tchar`: the characters of methods and header names. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** Header names we act on, lower case. */
const HOST = Buffer.from("host");
const CONNECTION = Buffer.from("connection");
const CONTENT_LENGTH = Buffer.from("content-length");
const TRANSFER_ENCODING = Buffer.from("transfer-encoding");
const CLOSE = Buffer.from("close");
const KEEP_ALIVE = Buffer.from("keep-alive");

/** Why a request is refused; constants, so the error pages can be built once. */
export const Reason = {
  malformedLine: "malformed request line (expected METHOD TARGET HTTP/1.x)",
  targetCharacter: "invalid character in the request target",
  version: "HTTP version not supported (only HTTP/1.0 and HTTP/1.1)",
  method: "method not allowed (only GET and HEAD)",
  target: "invalid request target",
  asterisk: "the asterisk-form target * is only for OPTIONS",
  percent: "invalid percent-encoding in the request target",
  fold: "folded header line (obs-fold)",
  noColon: "header line without a colon",
  spaceBeforeColon: "whitespace before the colon of a header",
  nameCharacter: "invalid character in a header name",
  valueCharacter: "invalid character in a header value",
  noHost: "HTTP/1.1 request without a Host header",
  twoHosts: "more than one Host header",
  contentLength: "invalid Content-Length",
  transferEncoding: "request bodies with Transfer-Encoding are not accepted",
  incomplete: "the connection ended in the middle of the request head",
  headerTimeout: "the request head did not arrive in time",
  notHttp: "not an HTTP request (no method begins with this byte)",
  tls: "a TLS handshake: this server speaks plain HTTP (http://, not https://)",
} as const;

/**
 * Whether a byte can begin a request: the first character of a method (an
 * RFC 9110 token). A TLS ClientHello (0x16) or binary junk cannot, so it can
 * be refused at once instead of after the header timeout.
 *
 * @param c The first byte of a request line.
 * @returns `true` for a token character.
 */
export function canBeginRequest(c: number): boolean {
  return TCHAR[c] === 1;
}

/** Case-insensitive comparison of `buf[start, start + name.length)` with a lower-case name. */
function equalsLower(buf: Buffer, start: number, name: Buffer): boolean {
  for (let i = 0; i < name.length; i++) {
    if ((buf[start + i]! | 0x20) !== name[i]) return false;
  }
  return true;
}

function fail(out: ParsedHead, status: number, reason: string): false {
  out.status = status;
  out.reason = reason;
  return false;
}

/**
 * Checks a request line `buf[start, end)` (without CR LF): `METHOD SP TARGET SP
 * HTTP/d.d` with single spaces, a token method and a printable ASCII target.
 * Sets `status` (400, 405, 505) and `reason` on failure, else `method`,
 * `version`, `lineEnd` and `root`.
 *
 * @param buf The bytes.
 * @param start Where the line starts.
 * @param end Where it ends, before CR LF.
 * @param out Where the verdict goes.
 * @returns `true` when the line is fine.
 */
export function parseRequestLine(
  buf: Buffer,
  start: number,
  end: number,
  out: ParsedHead,
): boolean {
  out.status = 0;
  out.reason = "";
  out.method = OTHER;
  out.version = 11;
  out.lineEnd = end;
  out.root = false;
  out.keepAlive = false;
  out.contentLength = 0;
  let sp1 = -1;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c === SP) {
      sp1 = i;
      break;
    }
    if (TCHAR[c] === 0) return fail(out, 400, Reason.malformedLine);
  }
  if (sp1 <= start) return fail(out, 400, Reason.malformedLine);
  let sp2 = -1;
  for (let i = sp1 + 1; i < end; i++) {
    const c = buf[i]!;
    if (c === SP) {
      sp2 = i;
      break;
    }
    if (c < 0x21 || c > 0x7e) return fail(out, 400, Reason.targetCharacter);
  }
  if (sp2 <= sp1 + 1) return fail(out, 400, Reason.malformedLine);
  // "HTTP/" DIGIT "." DIGIT, nothing after it.
  const v = sp2 + 1;
  if (
    end - v !== 8 ||
    buf[v] !== 0x48 ||
    buf[v + 1] !== 0x54 ||
    buf[v + 2] !== 0x54 ||
    buf[v + 3] !== 0x50 ||
    buf[v + 4] !== SLASH ||
    buf[v + 6] !== 0x2e
  ) {
    return fail(out, 400, Reason.malformedLine);
  }
  const major = buf[v + 5]! - 48;
  const minor = buf[v + 7]! - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return fail(out, 400, Reason.malformedLine);
  if (major !== 1 || minor > 1) return fail(out, 505, Reason.version);
  out.version = minor === 0 ? 10 : 11;
  const methodLength = sp1 - start;
  if (
    methodLength === 3 &&
    buf[start] === 0x47 &&
    buf[start + 1] === 0x45 &&
    buf[start + 2] === 0x54
  ) {
    out.method = GET;
  } else if (
    methodLength === 4 &&
    buf[start] === 0x48 &&
    buf[start + 1] === 0x45 &&
    buf[start + 2] === 0x41 &&
    buf[start + 3] === 0x44
  ) {
    out.method = HEAD;
  } else {
    return fail(out, 405, Reason.method);
  }
  // The hot path: exactly "/".
  if (sp2 - sp1 === 2 && buf[sp1 + 1] === SLASH) {
    out.root = true;
    return true;
  }
  const path = targetPath(buf.toString("latin1", sp1 + 1, sp2));
  if (path === undefined) return fail(out, 400, Reason.target);
  if (path === null) return fail(out, 400, Reason.percent);
  if (path === "*") return fail(out, 400, Reason.asterisk);
  out.root = path === "/";
  return true;
}

/**
 * The path of a request target, as the server compares it: origin-form
 * (`/a?b`) or absolute-form (`http://host/a`), cut at `?` or `#`,
 * percent-decoded and with `.` and `..` segments removed.
 *
 * @param target The target as sent.
 * @returns The path; `"*"` for the asterisk-form; `undefined` for a target of
 *   no known form; `null` for bad percent-encoding.
 */
export function targetPath(target: string): string | undefined | null {
  let path: string;
  if (target.charCodeAt(0) === SLASH) {
    path = target;
  } else if (target === "*") {
    return "*";
  } else {
    const scheme = target.indexOf("://");
    if (scheme < 0) return undefined;
    const name = target.slice(0, scheme).toLowerCase();
    if (name !== "http" && name !== "https") return undefined;
    const rest = target.slice(scheme + 3);
    let authorityEnd = rest.length;
    for (const stop of ["/", "?", "#"]) {
      const at = rest.indexOf(stop);
      if (at >= 0 && at < authorityEnd) authorityEnd = at;
    }
    if (authorityEnd === 0) return undefined;
    path = rest.slice(authorityEnd);
    if (path.charCodeAt(0) !== SLASH) path = `/${path}`;
  }
  const query = path.indexOf("?");
  if (query >= 0) path = path.slice(0, query);
  const fragment = path.indexOf("#");
  if (fragment >= 0) path = path.slice(0, fragment);
  if (path.includes("%")) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return null;
    }
  }
  return removeDotSegments(path);
}

/**
 * RFC 3986 section 5.2.4 for an absolute path: `/a/./b/../c` → `/a/c`; `..`
 * never climbs above `/`.
 *
 * @param path A path starting with `/`.
 * @returns The path without dot segments.
 */
export function removeDotSegments(path: string): string {
  if (!path.includes(".")) return path;
  const segments = path.split("/");
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === ".") {
      if (last) out.push("");
    } else if (s === "..") {
      out.pop();
      if (last) out.push("");
    } else {
      out.push(s);
    }
  }
  return `/${out.join("/")}`;
}

/**
 * Parses a whole request head `buf[start, end)`: the request line, then every
 * header line up to the blank line (or up to `end`). Sets `status` 400 for
 * header lines without a colon, folded lines, whitespace before a colon, bad
 * characters, a missing or doubled Host in HTTP/1.1, a bad Content-Length or
 * any Transfer-Encoding. Otherwise sets `keepAlive` (HTTP/1.1 unless
 * `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`) and
 * `contentLength`.
 *
 * @param buf The bytes.
 * @param start Where the head starts (the request line).
 * @param end Where it ends: after the blank line, or where the bytes end.
 * @param out Where the verdict goes.
 * @param bare Whether only a request line came (the tutorial's listing 3.3): answered as HTTP/1.0.
 * @returns `true` when the head is fine.
 */
export function parseHead(
  buf: Buffer,
  start: number,
  end: number,
  out: ParsedHead,
  bare = false,
): boolean {
  let lf = buf.indexOf(LF, start);
  if (lf < 0 || lf >= end) lf = end;
  const lineEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
  if (!parseRequestLine(buf, start, lineEnd, out)) return false;
  let hosts = 0;
  let close = false;
  let keepAlive = false;
  let length = -1;
  let p = lf + 1;
  while (p < end) {
    let next = buf.indexOf(LF, p);
    if (next < 0 || next >= end) next = end;
    const e = next > p && buf[next - 1] === CR ? next - 1 : next;
    if (e === p) break;
    const first = buf[p]!;
    if (first === SP || first === HTAB) return fail(out, 400, Reason.fold);
    let i = p;
    while (i < e && TCHAR[buf[i]!] === 1) i++;
    if (i === e || buf[i] !== COLON) {
      const c = buf[i];
      const colon = buf.indexOf(COLON, p);
      if (colon < 0 || colon >= e) return fail(out, 400, Reason.noColon);
      if (c === SP || c === HTAB) return fail(out, 400, Reason.spaceBeforeColon);
      return fail(out, 400, Reason.nameCharacter);
    }
    if (i === p) return fail(out, 400, Reason.nameCharacter);
    let vs = i + 1;
    let ve = e;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let j = vs; j < ve; j++) {
      const c = buf[j]!;
      if ((c < 0x20 && c !== HTAB) || c === 0x7f) return fail(out, 400, Reason.valueCharacter);
    }
    switch (i - p) {
      case 4:
        if (equalsLower(buf, p, HOST)) hosts++;
        break;
      case 10:
        if (equalsLower(buf, p, CONNECTION)) {
          const options = connectionOptions(buf, vs, ve);
          if ((options & 1) !== 0) close = true;
          if ((options & 2) !== 0) keepAlive = true;
        }
        break;
      case 14:
        if (equalsLower(buf, p, CONTENT_LENGTH)) {
          const n = parseLength(buf, vs, ve);
          if (n < 0 || (length >= 0 && n !== length)) return fail(out, 400, Reason.contentLength);
          length = n;
        }
        break;
      case 17:
        if (equalsLower(buf, p, TRANSFER_ENCODING)) return fail(out, 400, Reason.transferEncoding);
        break;
    }
    p = next + 1;
  }
  if (bare) {
    out.version = 10;
    out.keepAlive = false;
    return true;
  }
  if (hosts > 1) return fail(out, 400, Reason.twoHosts);
  if (hosts === 0 && out.version === 11) return fail(out, 400, Reason.noHost);
  out.keepAlive = out.version === 11 ? !close : keepAlive && !close;
  out.contentLength = Math.max(0, length);
  return true;
}

/** The options of a Connection header value: bit 1 `close`, bit 2 `keep-alive`. */
function connectionOptions(buf: Buffer, start: number, end: number): number {
  let found = 0;
  let p = start;
  while (p < end) {
    let comma = buf.indexOf(0x2c, p);
    if (comma < 0 || comma > end) comma = end;
    let s = p;
    let e = comma;
    while (s < e && (buf[s] === SP || buf[s] === HTAB)) s++;
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
    if (e - s === 5 && equalsLower(buf, s, CLOSE)) found |= 1;
    else if (e - s === 10 && equalsLower(buf, s, KEEP_ALIVE)) found |= 2;
    p = comma + 1;
  }
  return found;
}

/** A Content-Length value: 1 to 15 digits; -1 when invalid. */
function parseLength(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Whether a first line that has not ended yet could still become a valid
 * request line: a token method, one space, target characters (and perhaps the
 * start of the version). Decides 414 (a request line too long) from 400.
 *
 * @param buf The bytes.
 * @param start Where the line starts.
 * @param end Where the bytes end.
 * @returns `true` when the prefix is plausible.
 */
export function plausibleRequestLine(buf: Buffer, start: number, end: number): boolean {
  let i = start;
  while (i < end && TCHAR[buf[i]!] === 1) i++;
  if (i === start || i === end || buf[i] !== SP) return false;
  for (i += 1; i < end; i++) {
    const c = buf[i]!;
    if (c === SP) return true;
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}
