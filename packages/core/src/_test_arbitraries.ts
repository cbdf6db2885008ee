/**
 * Generators and helpers shared by core's property tests.
 *
 * @module
 */
import fc from "fast-check";

/** Any Unicode scalar value, evenly from the 1- to 4-byte UTF-8 ranges. */
export const anyChar: fc.Arbitrary<string> = fc
  .oneof(
    fc.integer({ min: 0, max: 0x7f }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.oneof(fc.integer({ min: 0x800, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0xffff })),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((c) => String.fromCodePoint(c));

/**
 * Cuts `bytes` at the given points (taken modulo its length), for "split the
 * input anywhere, same result" properties.
 *
 * @param bytes The input.
 * @param points Where to cut.
 * @returns The pieces, in order; together they are `bytes`.
 */
export function cutAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const at of cuts) {
    chunks.push(bytes.subarray(start, at));
    start = at;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}
