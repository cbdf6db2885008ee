import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { bytesRepr } from "./bytes_repr.ts";

const hasPython = spawnSync("python3", ["-c", "pass"]).status === 0;

/** The tutorial's browser request (3.1.4), without its line wrapping. */
const browserRequest =
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:50000\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:52.0) " +
  "Gecko/20100101 Firefox/52.0 SeaMonkey/2.49.4\r\nAccept: text/html,application/xhtml+xml," +
  "application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n" +
  "Accept-Encoding: gzip, deflate\r\nDNT: 1\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n";

describe("bytesRepr()", () => {
  test.each<[string, Uint8Array, string]>([
    ["the tutorial's recv()", Buffer.from("abc\r\n"), "b'abc\\r\\n'"],
    ["no bytes", new Uint8Array(0), "b''"],
    ["a tab", Buffer.from("a\tb"), "b'a\\tb'"],
    ["a backslash", Buffer.from("a\\b"), "b'a\\\\b'"],
    ["a single quote", Buffer.from("it's"), `b"it's"`],
    ["both quotes", Buffer.from(`it's "x"`), `b'it\\'s "x"'`],
    ["a double quote", Buffer.from(`say "x"`), `b'say "x"'`],
    ["NUL, DEL and 0xff", Uint8Array.of(0x00, 0x7f, 0xff), "b'\\x00\\x7f\\xff'"],
    ["UTF-8 of ü", Buffer.from("ü"), "b'\\xc3\\xbc'"],
    ["ESC and the other whitespace", Uint8Array.of(0x1b, 0x0b, 0x0c, 0x20), "b'\\x1b\\x0b\\x0c '"],
  ])("bytesRepr() of %s", (_, input, expected) => {
    expect(bytesRepr(input)).toBe(expected);
  });

  test("bytesRepr() shows the tutorial's browser request as Python does", () => {
    expect(bytesRepr(Buffer.from(browserRequest))).toBe(
      "b'GET / HTTP/1.1\\r\\nHost: 127.0.0.1:50000\\r\\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:52.0) " +
        "Gecko/20100101 Firefox/52.0 SeaMonkey/2.49.4\\r\\nAccept: text/html,application/xhtml+xml," +
        "application/xml;q=0.9,*/*;q=0.8\\r\\nAccept-Language: en-US,en;q=0.5\\r\\n" +
        "Accept-Encoding: gzip, deflate\\r\\nDNT: 1\\r\\nConnection: keep-alive\\r\\n" +
        "Upgrade-Insecure-Requests: 1\\r\\n\\r\\n'",
    );
  });

  test.skipIf(!hasPython)("bytesRepr() agrees with python3's repr() on random bytes", () => {
    // Bytes biased towards the interesting ones: quotes, backslash, controls, DEL, high bytes.
    const byte = fc.oneof(
      fc.constantFrom(0x22, 0x27, 0x5c, 0x09, 0x0a, 0x0d, 0x00, 0x7f, 0x80, 0xff),
      fc.integer({ min: 0, max: 255 }),
    );
    const samples = fc.sample(fc.array(byte, { maxLength: 40 }), { seed: 42, numRuns: 400 });
    samples.push(
      Array.from({ length: 256 }, (_, b) => b),
      [],
    );
    const input = samples.map((s) => Buffer.from(s).toString("hex")).join("\n") + "\n";
    const python = spawnSync(
      "python3",
      ["-c", "import sys\nfor line in sys.stdin: print(repr(bytes.fromhex(line.strip())))"],
      { input, encoding: "utf8" },
    );
    expect(python.status).toBe(0);
    const expected = python.stdout.split("\n").slice(0, -1);
    expect(expected).toHaveLength(samples.length);
    expect(samples.map((s) => bytesRepr(Uint8Array.from(s)))).toEqual(expected);
  });
});
