import { describe, expect, test } from "vitest";
import { displayBytes, displayLine } from "./display_bytes.ts";

describe("displayBytes()", () => {
  test.each<[string, Uint8Array, string]>([
    ["the tutorial's recv() as text", Buffer.from("abc\r\n"), "abc\r\n"],
    ["UTF-8 text with CRLF", Buffer.from("Grüße\r\n"), "Grüße\r\n"],
    ["a tab", Buffer.from("a\tb"), "a\tb"],
    ["no bytes", new Uint8Array(0), ""],
    ["invalid UTF-8", Uint8Array.of(0x61, 0xff), "b'a\\xff'"],
    ["a terminal escape sequence", Buffer.from("\x1b[2J"), "b'\\x1b[2J'"],
    ["a NUL", Buffer.from("a\0b"), "b'a\\x00b'"],
    ["DEL", Buffer.from("a\x7f"), "b'a\\x7f'"],
    ["a C1 control (U+0085)", Buffer.from("a\u0085"), "b'a\\xc2\\x85'"],
    ["a character cut short", Buffer.from("ü").subarray(0, 1), "b'\\xc3'"],
  ])("displayBytes() of %s", (_, input, expected) => {
    expect(displayBytes(input)).toBe(expected);
  });
});

describe("displayLine()", () => {
  test.each([
    ["Hallo Welt!\n", "Hallo Welt!"],
    ["Hallo Welt!\r\n", "Hallo Welt!"],
    ["111111111111111111", "111111111111111111"],
    ["a\nb", "b'a\\nb'"],
    ["a\n\n", "b'a\\n\\n'"],
    ["", ""],
  ])("shows %j as %j", (text, line) => expect(displayLine(Buffer.from(text))).toBe(line));
  test("shows bytes that are not text as a literal", () => {
    expect(displayLine(Uint8Array.of(0x61, 0xff, 0x0a))).toBe("b'a\\xff\\n'");
  });
});
