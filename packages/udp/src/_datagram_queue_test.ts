import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DatagramQueue } from "./_datagram_queue.ts";

const item = (n: number, size = 1) => ({ n, data: new Uint8Array(size) });

describe("DatagramQueue", () => {
  test("keeps order and refuses the newest when the count is reached", () => {
    const q = new DatagramQueue<ReturnType<typeof item>>(3, 1000);
    expect([1, 2, 3, 4].map((n) => q.push(item(n)))).toEqual([true, true, true, false]);
    expect(q.shift()?.n).toBe(1);
    expect(q.push(item(5))).toBe(true);
    expect([q.shift()?.n, q.shift()?.n, q.shift()?.n, q.shift()]).toEqual([2, 3, 5, undefined]);
  });

  test("refuses what would pass the byte limit, but always takes one datagram into an empty queue", () => {
    const q = new DatagramQueue<ReturnType<typeof item>>(10, 100);
    expect(q.push(item(1, 150))).toBe(true);
    expect(q.push(item(2, 1))).toBe(false);
    q.shift();
    expect(q.push(item(3, 60))).toBe(true);
    expect(q.push(item(4, 40))).toBe(true);
    expect(q.push(item(5, 1))).toBe(false);
    expect(q.bytes).toBe(100);
    q.clear();
    expect([q.length, q.bytes]).toEqual([0, 0]);
  });

  test("behaves like a bounded array through any pushes and shifts (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }), { maxLength: 300 }),
        (max, ops) => {
          const q = new DatagramQueue<ReturnType<typeof item>>(max, 50);
          const model: { n: number; data: Uint8Array }[] = [];
          let bytes = 0;
          ops.forEach((size, n) => {
            if (size === undefined) {
              const expected = model.shift();
              if (expected !== undefined) bytes -= expected.data.length;
              expect(q.shift()).toBe(expected);
              return;
            }
            const it = item(n, size);
            const fits = model.length < max && (model.length === 0 || bytes + size <= 50);
            expect(q.push(it)).toBe(fits);
            if (fits) {
              model.push(it);
              bytes += size;
            }
            expect([q.length, q.bytes]).toEqual([model.length, bytes]);
          });
        },
      ),
    );
  });
});
