import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { anyChar } from "./_test_arbitraries.ts";
import { bytesRepr } from "./bytes_repr.ts";
import { parseEscapes } from "./escapes.ts";

describe("parseEscapes()", () => {
  test.each<[string, number[]]>([
    ["abc", [0x61, 0x62, 0x63]],
    ["", []],
    ["GET / HTTP/1.0\\r\\n\\r\\n", [...Buffer.from("GET / HTTP/1.0\r\n\r\n")]],
    ["\\xff\\x00ü", [0xff, 0x00, 0xc3, 0xbc]],
    ["\\xAb\\xcD", [0xab, 0xcd]],
    ["\\t\\n\\r\\0", [0x09, 0x0a, 0x0d, 0x00]],
    ["\\\\ \\\" \\'", [0x5c, 0x20, 0x22, 0x20, 0x27]],
    ["\\a\\b\\e\\f\\v", [0x07, 0x08, 0x1b, 0x0c, 0x0b]],
    ["\\08\\09", [0x00, 0x38, 0x00, 0x39]],
    ["😀\\n", [0xf0, 0x9f, 0x98, 0x80, 0x0a]],
  ])("parseEscapes(%j) gives the bytes", (text, expected) => {
    const out = parseEscapes(text);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect([...out]).toEqual(expected);
  });

  test.each<[string, string]>([
    ["ab\\q", 'Cannot read escape "\\q" at position 2: use \\r \\n \\t \\0'],
    ["\\x4", 'Cannot read escape "\\x4" at position 0: \\x needs two hex digits'],
    ["a\\xg0", 'Cannot read escape "\\xg0" at position 1: \\x needs two hex digits'],
    ["\\x", 'Cannot read escape "\\x" at position 0: \\x needs two hex digits'],
    ["ab\\", 'Cannot read escape "\\" at position 2: the text ends with a lone backslash'],
    ["\\01", 'Cannot read escape "\\01" at position 0: octal escapes are not supported, use \\xNN'],
    ["üß\\ü", 'Cannot read escape "\\ü" at position 2'],
    ["😀\\x€", 'Cannot read escape "\\x€" at position 1'],
  ])("parseEscapes(%j) refuses the escape, naming its position", (text, message) => {
    expect(() => parseEscapes(text)).toThrow(TypeError);
    expect(() => parseEscapes(text)).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_INVALID_ESCAPE",
        message: expect.stringContaining(message),
      }),
    );
  });

  test("parseEscapes() refuses a lone surrogate", () => {
    expect(() => parseEscapes("a\ud800")).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_UNENCODABLE" }),
    );
  });

  test("parseEscapes() reads back what bytesRepr() writes between the quotes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const literal = bytesRepr(bytes).slice(2, -1);
        expect([...parseEscapes(literal)]).toEqual([...bytes]);
      }),
    );
  });

  test("parseEscapes() leaves text without backslashes as its UTF-8", () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar }), (text) => {
        const plain = text.replaceAll("\\", "/");
        expect(parseEscapes(plain).equals(Buffer.from(plain, "utf8"))).toBe(true);
      }),
    );
  });
});
