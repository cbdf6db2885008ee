import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ByteQueue } from "./_byte_queue.ts";

function queueOf(...parts: string[]): ByteQueue {
  const q = new ByteQueue();
  for (const part of parts) q.push(Buffer.from(part, "latin1"));
  return q;
}

describe("ByteQueue", () => {
  test("take() returns bytes across chunk borders and keeps the rest", () => {
    const q = queueOf("ab", "cde", "f");
    expect(q.take(1).toString()).toBe("a");
    expect(q.take(3).toString()).toBe("bcd");
    expect(q.length).toBe(2);
    expect(q.takeAll().toString()).toBe("ef");
    expect(q.length).toBe(0);
    expect(q.chunkCount).toBe(0);
  });

  test("take() of a whole first chunk returns that chunk without copying", () => {
    const chunk = Buffer.from("hello");
    const q = new ByteQueue();
    q.push(chunk);
    q.push(Buffer.from("!"));
    expect(q.take(5)).toBe(chunk);
  });

  test("take() rejects more bytes than are queued", () => {
    expect(() => queueOf("ab").take(3)).toThrow(RangeError);
  });

  test("unshift() puts bytes back in front", () => {
    const q = queueOf("world");
    q.take(2);
    q.unshift(Buffer.from("wo"));
    q.unshift(Buffer.from("hello "));
    expect(q.takeAll().toString()).toBe("hello world");
  });

  test.each([
    { parts: ["a\r", "\n"], needle: "\r\n", from: 0, end: undefined, want: 1 },
    { parts: ["a", "\r", "\n", "\r", "\n"], needle: "\r\n\r\n", from: 0, end: undefined, want: 1 },
    { parts: ["xx\r\n", "yy\r\n"], needle: "\r\n", from: 3, end: undefined, want: 6 },
    { parts: ["abc", "abd"], needle: "abd", from: 0, end: undefined, want: 3 },
    { parts: ["aab", "ab"], needle: "ab", from: 0, end: 2, want: -1 },
    { parts: ["aab", "ab"], needle: "ab", from: 0, end: 3, want: 1 },
    { parts: ["\r"], needle: "\r\n", from: 0, end: undefined, want: -1 },
    { parts: ["ab", "c"], needle: "bc", from: 2, end: undefined, want: -1 },
  ])(
    "indexOf($needle) in $parts from $from to $end is $want",
    ({ parts, needle, from, end, want }) => {
      expect(queueOf(...parts).indexOf(Buffer.from(needle), from, end)).toBe(want);
    },
  );

  test("indexOf() resumed at the scanned offset finds a delimiter fed one byte at a time", () => {
    const q = new ByteQueue();
    const needle = Buffer.from("\r\n\r\n");
    const text = "GET / HTTP/1.0\r\nHost: x\r\n\r\nbody";
    let from = 0;
    let found = -1;
    for (const byte of Buffer.from(text)) {
      q.push(Buffer.of(byte));
      found = q.indexOf(needle, from);
      if (found >= 0) break;
      from = Math.max(0, q.length - needle.length + 1);
    }
    expect(found).toBe(text.indexOf("\r\n\r\n"));
  });

  test("any chunking and any takes give back the bytes pushed, and indexOf() agrees with Buffer", () => {
    const bytes = fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a.map((b) => b % 3)));
    fc.assert(
      fc.property(
        fc.array(bytes, { maxLength: 12 }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a.map((b) => b % 3))),
        fc.nat(40),
        fc.array(fc.nat(10), { maxLength: 6 }),
        (chunks, needle, from, takes) => {
          const q = new ByteQueue();
          for (const chunk of chunks) q.push(chunk);
          const all = Buffer.concat(chunks);
          const expected = all.indexOf(needle, Math.min(from, all.length));
          expect(q.indexOf(needle, from)).toBe(from > all.length - needle.length ? -1 : expected);
          // Search again from the start after a search moved the cursor.
          expect(q.indexOf(needle, 0)).toBe(all.indexOf(needle));
          const out: Buffer[] = [];
          for (const n of takes) out.push(q.take(Math.min(n, q.length)));
          out.push(q.takeAll());
          expect(Buffer.concat(out)).toEqual(all);
        },
      ),
    );
  });
});
