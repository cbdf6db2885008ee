import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { hexdump } from "./hexdump.ts";

const hasXxd = spawnSync("xxd", ["-v"]).status === 0;

describe("hexdump()", () => {
  test("hexdump() shows a short line as xxd does (the documented example)", () => {
    expect(hexdump(Buffer.from("Hello\n"))).toBe(
      "00000000: 4865 6c6c 6f0a                           Hello.",
    );
  });

  test("hexdump() pads the last line and shows unprintable bytes as dots", () => {
    expect(hexdump(Buffer.from("Hello, world! 0123456789abcdef\x00\xff\x7f~ ", "latin1"))).toBe(
      [
        "00000000: 4865 6c6c 6f2c 2077 6f72 6c64 2120 3031  Hello, world! 01",
        "00000010: 3233 3435 3637 3839 6162 6364 6566 00ff  23456789abcdef..",
        "00000020: 7f7e 20                                  .~ ",
      ].join("\n"),
    );
  });

  test("hexdump() honours width and offset as xxd -c and -o", () => {
    expect(hexdump(Buffer.from("Hello world"), { width: 5 })).toBe(
      [
        "00000000: 4865 6c6c 6f  Hello",
        "00000005: 2077 6f72 6c   worl",
        "0000000a: 64            d",
      ].join("\n"),
    );
    expect(hexdump(Buffer.from("Hello world"), { width: 3, offset: 100 })).toBe(
      [
        "00000064: 4865 6c  Hel",
        "00000067: 6c6f 20  lo ",
        "0000006a: 776f 72  wor",
        "0000006d: 6c64     ld",
      ].join("\n"),
    );
  });

  test("hexdump() widens the offset beyond 8 hex digits", () => {
    expect(hexdump(Buffer.from("ab"), { offset: 0x1000000000 })).toBe(
      "1000000000: 6162                                     ab",
    );
  });

  test("hexdump() of no bytes is an empty string", () => {
    expect(hexdump(new Uint8Array(0))).toBe("");
  });

  test.each([0, 257, 1.5, Number.NaN])("hexdump() rejects width %s", (width) => {
    expect(() => hexdump(Uint8Array.of(1), { width })).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_INVALID_OPTION" }),
    );
  });

  test("hexdump() rejects a negative offset", () => {
    expect(() => hexdump(Uint8Array.of(1), { offset: -1 })).toThrow(RangeError);
  });

  test.skipIf(!hasXxd)("hexdump() agrees with xxd on random bytes, widths and offsets", () => {
    const cases = fc.sample(
      fc.record({
        bytes: fc.uint8Array({ maxLength: 80 }),
        width: fc.oneof(fc.constantFrom(1, 2, 16, 256), fc.integer({ min: 1, max: 40 })),
        offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 })),
      }),
      { seed: 7, numRuns: 12 },
    );
    for (const { bytes, width, offset } of cases) {
      const xxd = spawnSync("xxd", ["-c", String(width), "-o", String(offset)], {
        input: bytes,
        encoding: "latin1",
      });
      expect(xxd.status).toBe(0);
      expect(hexdump(bytes, { width, offset })).toBe(xxd.stdout.replace(/\n$/, ""));
    }
  });
});
