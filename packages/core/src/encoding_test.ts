import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { anyChar } from "./_test_arbitraries.ts";
import {
  decode,
  encode,
  isValidUtf8,
  parseEncodingName,
  type TextEncodingName,
} from "./encoding.ts";
import { SocklabError } from "./errors.ts";

const bytes = (...values: number[]) => Uint8Array.from(values);

describe("encode()", () => {
  test.each<[string, TextEncodingName, number[]]>([
    ["abc\r\n", "utf-8", [0x61, 0x62, 0x63, 0x0d, 0x0a]],
    ["Grüße", "utf-8", [0x47, 0x72, 0xc3, 0xbc, 0xc3, 0x9f, 0x65]],
    ["€", "utf-8", [0xe2, 0x82, 0xac]],
    ["😀", "utf-8", [0xf0, 0x9f, 0x98, 0x80]],
    ["Grüße", "latin1", [0x47, 0x72, 0xfc, 0xdf, 0x65]],
    ["\u0080\u009f\u00ff", "latin1", [0x80, 0x9f, 0xff]],
    ["GET / HTTP/1.0\r\n", "ascii", [...Buffer.from("GET / HTTP/1.0\r\n")]],
    ["", "utf-8", []],
  ])("encode(%j, %s) gives the expected bytes", (text, encoding, expected) => {
    const out = encode(text, encoding);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect([...out]).toEqual(expected);
  });

  test("encode() uses UTF-8 by default, as the tutorial's encode('utf-8')", () => {
    expect(encode("GET / HTTP/1.0\r\n").toString("latin1")).toBe("GET / HTTP/1.0\r\n");
  });

  test.each<[string, TextEncodingName, string]>([
    ["Grüße", "ascii", 'Cannot encode character U+00FC "ü" at position 2 as ascii'],
    ["a€", "latin1", 'Cannot encode character U+20AC "€" at position 1 as latin1'],
    ["é😀", "latin1", 'Cannot encode character U+1F600 "😀" at position 1 as latin1'],
    ["😀é", "ascii", 'Cannot encode character U+1F600 "😀" at position 0 as ascii'],
    ["a\u0085", "ascii", "Cannot encode character U+0085 at position 1 as ascii"],
    ["😀x\ud800", "utf-8", "Cannot encode character U+D800 at position 2 as utf-8"],
    ["\udc00", "utf-8", "Cannot encode character U+DC00 at position 0 as utf-8"],
  ])("encode(%j, %s) refuses the character it cannot hold", (text, encoding, message) => {
    expect(() => encode(text, encoding)).toThrow(RangeError);
    expect(() => encode(text, encoding)).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_UNENCODABLE",
        message: expect.stringContaining(message),
      }),
    );
  });

  test("encode() refuses a value that is not a string", () => {
    expect(() => encode(42 as unknown as string)).toThrow(TypeError);
  });
});

describe("decode()", () => {
  test("decode() repeats the tutorial: b'abc\\r\\n'.decode('utf-8')", () => {
    expect(decode(Buffer.from("abc\r\n"))).toBe("abc\r\n");
  });

  test.each<[number[], TextEncodingName, string]>([
    [[0x47, 0x72, 0xc3, 0xbc, 0xc3, 0x9f, 0x65], "utf-8", "Grüße"],
    [[0xef, 0xbb, 0xbf, 0x61], "utf-8", "\ufeffa"],
    [[0x47, 0x72, 0xfc, 0xdf, 0x65], "latin1", "Grüße"],
    [[0x80, 0x9f], "latin1", "\u0080\u009f"],
    [[0x61, 0x7f], "ascii", "a\x7f"],
  ])("decode(%j, %s) gives the text", (input, encoding, expected) => {
    expect(decode(Uint8Array.from(input), encoding)).toBe(expected);
  });

  test.each<[number[], string]>([
    [[0x61, 0xff], "invalid byte 0xff at offset 1"],
    [[0x61, 0xe2, 0x41], "invalid sequence 0xe2 0x41 at offset 1"],
    [[0xc0, 0xaf], "invalid byte 0xc0 at offset 0"],
    [[0x61, 0x80], "invalid byte 0x80 at offset 1"],
    [[0xed, 0xa0, 0x80], "invalid sequence 0xed 0xa0 at offset 0"],
    [[0xe0, 0x80, 0x80], "invalid sequence 0xe0 0x80 at offset 0"],
    [[0xf4, 0x90, 0x80, 0x80], "invalid sequence 0xf4 0x90 at offset 0"],
    [[0xf0, 0x9f, 0x98, 0x41], "invalid sequence 0xf0 0x9f 0x98 0x41 at offset 0"],
    [[0x61, 0x62, 0xe2, 0x82], "the stream ends inside the sequence 0xe2 0x82 at offset 2"],
  ])("decode(%j) throws ERR_SOCKLAB_INVALID_UTF8 naming the offset", (input, message) => {
    let caught: unknown;
    try {
      decode(Uint8Array.from(input));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SocklabError);
    expect(caught).toMatchObject({ code: "ERR_SOCKLAB_INVALID_UTF8" });
    expect((caught as Error).message).toBe(`Cannot decode the bytes as UTF-8: ${message}`);
  });

  test("decode() with fatal: false puts U+FFFD for each invalid sequence", () => {
    expect(decode(bytes(0x61, 0xff), "utf-8", { fatal: false })).toBe("a\ufffd");
    expect(decode(bytes(0x61, 0xe2, 0x82), "utf-8", { fatal: false })).toBe("a\ufffd");
    expect(decode(bytes(0xe2, 0x82, 0x41), "utf-8", { fatal: false })).toBe("\ufffdA");
    expect(decode(bytes(0xc0, 0xaf), "utf-8", { fatal: false })).toBe("\ufffd\ufffd");
  });

  test("decode() as ASCII refuses bytes above 0x7f, or replaces them", () => {
    expect(() => decode(bytes(0x61, 0x62, 0xfc), "ascii")).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_INVALID_ASCII",
        message: "Cannot decode the bytes as ASCII: invalid byte 0xfc at offset 2",
      }),
    );
    expect(decode(bytes(0x61, 0xfc, 0x62, 0x80), "ascii", { fatal: false })).toBe("a\ufffdb\ufffd");
  });

  test("decode() refuses a value that is not bytes", () => {
    expect(() => decode("abc" as unknown as Uint8Array)).toThrow(TypeError);
  });

  test("decode() of encode() gives the text back in every encoding", () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar }), (text) => {
        expect(decode(encode(text))).toBe(text);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)) }),
        (text) => {
          expect(decode(encode(text, "latin1"), "latin1")).toBe(text);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }),
        (text) => {
          expect(decode(encode(text, "ascii"), "ascii")).toBe(text);
        },
      ),
    );
  });

  test("encode() of decode() gives the bytes back: latin1 always, UTF-8 when valid", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        expect([...encode(decode(input, "latin1"), "latin1")]).toEqual([...input]);
        if (isValidUtf8(input)) expect([...encode(decode(input))]).toEqual([...input]);
        else expect(() => decode(input)).toThrow(SocklabError);
      }),
    );
  });

  test("decode() with fatal: false agrees with the WHATWG decoder", () => {
    const reference = new TextDecoder("utf-8", { ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        expect(decode(input, "utf-8", { fatal: false })).toBe(reference.decode(input));
      }),
    );
  });
});

describe("isValidUtf8()", () => {
  test.each<[number[], boolean]>([
    [[...Buffer.from("Grüße")], true],
    [[], true],
    [[0xf4, 0x8f, 0xbf, 0xbf], true],
    [[0xc0, 0xaf], false],
    [[0xed, 0xa0, 0x80], false],
    [[0xf4, 0x90, 0x80, 0x80], false],
    [[0xe2, 0x82], false],
    [[0xff], false],
  ])("isValidUtf8(%j) is %s", (input, expected) => {
    expect(isValidUtf8(Uint8Array.from(input))).toBe(expected);
  });
});

describe("parseEncodingName()", () => {
  test.each([
    ["utf-8", "utf-8"],
    ["UTF-8", "utf-8"],
    ["utf8", "utf-8"],
    ["utf_8", "utf-8"],
    ["ascii", "ascii"],
    ["US-ASCII", "ascii"],
    ["latin1", "latin1"],
    ["latin-1", "latin1"],
    ["Latin_1", "latin1"],
    ["iso-8859-1", "latin1"],
    ["ISO8859-1", "latin1"],
  ])("parseEncodingName(%j) is %s", (name, expected) => {
    expect(parseEncodingName(name)).toBe(expected);
  });

  test("parseEncodingName() rejects an unknown name, listing the known ones", () => {
    expect(() => parseEncodingName("koi8-r")).toThrow(TypeError);
    expect(() => parseEncodingName("koi8-r")).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_UNKNOWN_ENCODING",
        message: 'Cannot use encoding "koi8-r": use utf-8, ascii or latin1',
      }),
    );
  });

  test("encode() and decode() accept an alias from a JavaScript caller", () => {
    expect([...encode("ü", "iso-8859-1" as TextEncodingName)]).toEqual([0xfc]);
    expect(decode(bytes(0xfc), "latin-1" as TextEncodingName)).toBe("ü");
  });
});
