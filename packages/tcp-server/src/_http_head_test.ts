import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  canBeginRequest,
  emptyHead,
  GET,
  HEAD,
  parseHead,
  plausibleRequestLine,
  Reason,
  removeDotSegments,
  targetPath,
} from "./_http_head.ts";

function parse(text: string, bare = false) {
  const buf = Buffer.from(text, "latin1");
  const out = emptyHead();
  parseHead(buf, 0, buf.length, out, bare);
  return out;
}

describe("parseHead()", () => {
  test.each([
    ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, ""],
    ["GET / HTTP/1.0\r\n\r\n", 0, ""],
    ["HEAD / HTTP/1.1\r\nhost: x\r\n\r\n", 0, ""],
    ["GET / HTTP/1.1\nHost: x\n\n", 0, ""],
    ["abc\r\n\r\n", 400, Reason.malformedLine],
    ["GET /\r\n\r\n", 400, Reason.malformedLine],
    ["GET  / HTTP/1.1\r\n\r\n", 400, Reason.malformedLine],
    ["GET / HTTP/1.1 \r\n\r\n", 400, Reason.malformedLine],
    ["GET / http/1.1\r\n\r\n", 400, Reason.malformedLine],
    ["GET / HTTP/1.x\r\n\r\n", 400, Reason.malformedLine],
    ["G(T / HTTP/1.1\r\n\r\n", 400, Reason.malformedLine],
    ["GET /\x01 HTTP/1.1\r\n\r\n", 400, Reason.targetCharacter],
    ["GET /\xe4 HTTP/1.1\r\n\r\n", 400, Reason.targetCharacter],
    ["GET / HTTP/2.0\r\n\r\n", 505, Reason.version],
    ["GET / HTTP/1.2\r\n\r\n", 505, Reason.version],
    ["GET / HTTP/0.9\r\n\r\n", 505, Reason.version],
    ["POST / HTTP/1.1\r\nHost: x\r\n\r\n", 405, Reason.method],
    ["get / HTTP/1.1\r\nHost: x\r\n\r\n", 405, Reason.method],
    ["OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405, Reason.method],
    ["GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, Reason.asterisk],
    ["GET example.com:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400, Reason.target],
    ["GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, Reason.target],
    ["GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, Reason.percent],
    ["GET /%c3 HTTP/1.1\r\nHost: x\r\n\r\n", 400, Reason.percent],
    ["GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, Reason.noColon],
    ["GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400, Reason.noColon],
    ["GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, Reason.spaceBeforeColon],
    ["GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n  c\r\n\r\n", 400, Reason.fold],
    ["GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\tc\r\n\r\n", 400, Reason.fold],
    ["GET / HTTP/1.1\r\nHo(st: x\r\n\r\n", 400, Reason.nameCharacter],
    ["GET / HTTP/1.1\r\n: x\r\n\r\n", 400, Reason.nameCharacter],
    ["GET / HTTP/1.1\r\nHost: x\x00y\r\n\r\n", 400, Reason.valueCharacter],
    ["GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n", 400, Reason.valueCharacter],
    ["GET / HTTP/1.1\r\n\r\n", 400, Reason.noHost],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, Reason.twoHosts],
    ["GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, Reason.contentLength],
    [
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      400,
      Reason.contentLength,
    ],
    [
      "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      400,
      Reason.transferEncoding,
    ],
  ])("%j → %i", (text, status, reason) => {
    const out = parse(text);
    expect(out.status).toBe(status);
    expect(out.reason).toBe(reason);
  });

  test.each([
    ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", true],
    ["GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false],
    ["GET / HTTP/1.1\r\nHost: x\r\nconnection: Upgrade, CLOSE\r\n\r\n", false],
    ["GET / HTTP/1.0\r\n\r\n", false],
    ["GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true],
    ["GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true],
    ["GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false],
  ])("keep-alive of %j is %s", (text, keepAlive) => {
    const out = parse(text);
    expect(out.status).toBe(0);
    expect(out.keepAlive).toBe(keepAlive);
  });

  test("reads the method, the version, Content-Length and whether the path is /", () => {
    expect(parse("HEAD /?a=b HTTP/1.0\r\nContent-Length: 12\r\n\r\n")).toMatchObject({
      status: 0,
      method: HEAD,
      version: 10,
      root: true,
      contentLength: 12,
    });
    expect(parse("GET /other HTTP/1.1\r\nHost: x\r\n\r\n")).toMatchObject({
      method: GET,
      root: false,
    });
  });

  test("a bare request line is answered as HTTP/1.0: no Host needed, no keep-alive", () => {
    expect(parse("GET / HTTP/1.1\r\n", true)).toMatchObject({
      status: 0,
      version: 10,
      keepAlive: false,
      root: true,
    });
  });

  test("never throws, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        const out = emptyHead();
        parseHead(buf, 0, buf.length, out);
        expect([0, 400, 405, 505]).toContain(out.status);
      }),
    );
  });
});

describe("targetPath()", () => {
  test.each([
    ["/", "/"],
    ["/?x=1", "/"],
    ["/#top", "/"],
    ["/a/b?c", "/a/b"],
    ["/%7Euser", "/~user"],
    ["/%2e/", "/"],
    ["/a/../", "/"],
    ["/../..", "/"],
    ["/./a/./b/../c", "/a/c"],
    ["http://example.com", "/"],
    ["http://example.com/", "/"],
    ["HTTP://example.com:8080/x?y", "/x"],
    ["https://example.com?q", "/"],
    ["*", "*"],
    ["example.com:443", undefined],
    ["http:///x", undefined],
    ["/%", null],
    ["/%e4", null],
  ])("%j → %j", (target, path) => {
    expect(targetPath(target)).toBe(path);
  });

  test("percent-decoding reverses encodeURIComponent for every segment", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ minLength: 1 }).filter((s) => s !== "." && s !== ".." && !s.includes("/")),
          { maxLength: 5 },
        ),
        (segments) => {
          const encoded = `/${segments.map(encodeURIComponent).join("/")}`;
          expect(targetPath(encoded)).toBe(`/${segments.join("/")}`);
        },
      ),
    );
  });
});

describe("removeDotSegments()", () => {
  test.each([
    ["/a/b/c/./../../g", "/a/g"],
    ["/mid/content=5/../6", "/mid/6"],
    ["/a/.", "/a/"],
    ["/a/..", "/"],
    ["/.hidden", "/.hidden"],
  ])("%j → %j", (path, expected) => {
    expect(removeDotSegments(path)).toBe(expected);
  });
});

describe("plausibleRequestLine()", () => {
  test.each([
    ["GET /aaaa", true],
    ["GET /aaaa HTTP/1.", true],
    ["GET", false],
    ["\x16\x03\x01", false],
    ["GET /a\x00", false],
  ])("%j → %s", (line, expected) => {
    const buf = Buffer.from(line, "latin1");
    expect(plausibleRequestLine(buf, 0, buf.length)).toBe(expected);
  });
});

describe("canBeginRequest()", () => {
  test("is true exactly for the token characters of RFC 9110, the bytes a method is made of", () => {
    const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (let c = 0; c < 256; c++) {
      expect([c, canBeginRequest(c)]).toEqual([c, tchar.includes(String.fromCharCode(c))]);
    }
    expect(canBeginRequest(0x16)).toBe(false); // a TLS handshake record
  });
});
