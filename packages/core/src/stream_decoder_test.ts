import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { anyChar, cutAt } from "./_test_arbitraries.ts";
import { decode, encode } from "./encoding.ts";
import { SocklabError } from "./errors.ts";
import { StreamDecoder } from "./stream_decoder.ts";

/** The text of a whole stream, or the message of the error it throws. */
function run(decoder: StreamDecoder, chunks: Uint8Array[]): string {
  let text = "";
  try {
    for (const chunk of chunks) text += decoder.push(chunk);
    return text + decoder.end();
  } catch (err) {
    if (!(err instanceof SocklabError)) throw err;
    return `error: ${err.message}`;
  }
}

/** Bytes that are mostly UTF-8 text with some invalid bytes mixed in. */
const mostlyUtf8 = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: anyChar, maxLength: 8 }).map((s) => encode(s)) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3 }) },
    ),
    { maxLength: 8 },
  )
  .map((parts) => Uint8Array.from(parts.flatMap((p) => [...p])));

describe("StreamDecoder", () => {
  test("StreamDecoder joins a character split across chunks (the documented example)", () => {
    const decoder = new StreamDecoder("utf-8");
    expect(decoder.push(Uint8Array.of(0x47, 0x72, 0xc3))).toBe("Gr");
    expect(decoder.push(Uint8Array.of(0xbc, 0xc3, 0x9f, 0x65))).toBe("üße");
    expect(decoder.end()).toBe("");
  });

  test("StreamDecoder decodes a 4-byte character pushed one byte at a time", () => {
    const decoder = new StreamDecoder();
    const parts = [...encode("😀!")].map((b) => decoder.push(Uint8Array.of(b)));
    expect(parts).toEqual(["", "", "", "😀", "!"]);
  });

  test("StreamDecoder gives the same text however valid UTF-8 is split", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: anyChar }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (text, points) => {
          expect(run(new StreamDecoder(), cutAt(encode(text), points))).toBe(text);
        },
      ),
    );
  });

  test("StreamDecoder gives the same result as decode() however any bytes are split", () => {
    fc.assert(
      fc.property(
        mostlyUtf8,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.boolean(),
        (input, points, fatal) => {
          const whole = run(new StreamDecoder("utf-8", { fatal }), [input]);
          expect(run(new StreamDecoder("utf-8", { fatal }), cutAt(input, points))).toBe(whole);
          if (!fatal) expect(whole).toBe(decode(input, "utf-8", { fatal: false }));
        },
      ),
    );
  });

  test("StreamDecoder names the offset in the whole stream of an invalid byte", () => {
    const decoder = new StreamDecoder();
    expect(decoder.push(Buffer.from("abc"))).toBe("abc");
    expect(decoder.push(Uint8Array.of(0xe2, 0x82))).toBe("");
    expect(() => decoder.push(Uint8Array.of(0x41))).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_INVALID_UTF8",
        message: "Cannot decode the bytes as UTF-8: invalid sequence 0xe2 0x82 0x41 at offset 3",
      }),
    );
  });

  test("StreamDecoder reports a character cut short by end() in fatal mode", () => {
    const decoder = new StreamDecoder();
    decoder.push(Buffer.from("ab"));
    decoder.push(Uint8Array.of(0xf0, 0x9f));
    expect(() => decoder.end()).toThrow(
      "Cannot decode the bytes as UTF-8: the stream ends inside the sequence 0xf0 0x9f at offset 2",
    );
  });

  test("StreamDecoder puts one U+FFFD for a character cut short by end() in non-fatal mode", () => {
    const decoder = new StreamDecoder("utf-8", { fatal: false });
    expect(decoder.push(Uint8Array.of(0x61, 0xe2, 0x82))).toBe("a");
    expect(decoder.end()).toBe("\ufffd");
  });

  test("StreamDecoder stays failed after an error", () => {
    const decoder = new StreamDecoder();
    let first: unknown;
    try {
      decoder.push(Uint8Array.of(0xff));
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(SocklabError);
    expect(() => decoder.push(Buffer.from("fine"))).toThrow(first as Error);
    expect(() => decoder.end()).toThrow(first as Error);
  });

  test("StreamDecoder is ready for a new stream after end()", () => {
    const decoder = new StreamDecoder();
    decoder.push(Buffer.from("abc"));
    expect(decoder.end()).toBe("");
    expect(() => decoder.push(Uint8Array.of(0x61, 0xff))).toThrow("invalid byte 0xff at offset 1");
  });

  test("StreamDecoder keeps no reference to a chunk the caller reuses", () => {
    const decoder = new StreamDecoder();
    const buffer = Buffer.from([0x61, 0xc3]);
    expect(decoder.push(buffer)).toBe("a");
    buffer.set([0xbc, 0x62]);
    expect(decoder.push(buffer)).toBe("üb");
  });

  test("StreamDecoder keeps a byte order mark, as Python's utf-8 codec", () => {
    const decoder = new StreamDecoder();
    expect(decoder.push(Uint8Array.of(0xef, 0xbb))).toBe("");
    expect(decoder.push(Uint8Array.of(0xbf, 0x61))).toBe("\ufeffa");
  });

  test("StreamDecoder decodes latin1 and ascii chunk by chunk with stream offsets", () => {
    const latin1 = new StreamDecoder("latin1");
    expect(latin1.push(Uint8Array.of(0x47, 0x72, 0xfc))).toBe("Grü");
    expect(latin1.push(Uint8Array.of(0xdf, 0x65))).toBe("ße");
    const ascii = new StreamDecoder("ascii");
    expect(ascii.push(Buffer.from("abc"))).toBe("abc");
    expect(() => ascii.push(Uint8Array.of(0x64, 0xfc))).toThrow(
      expect.objectContaining({
        code: "ERR_SOCKLAB_INVALID_ASCII",
        message: "Cannot decode the bytes as ASCII: invalid byte 0xfc at offset 4",
      }),
    );
    const lenient = new StreamDecoder("ascii", { fatal: false });
    expect(lenient.push(Uint8Array.of(0x61, 0xfc))).toBe("a\ufffd");
  });

  test("StreamDecoder refuses an unknown encoding and a chunk that is not bytes", () => {
    expect(() => new StreamDecoder("utf8" as "utf-8")).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_UNKNOWN_ENCODING" }),
    );
    expect(() => new StreamDecoder().push("abc" as unknown as Uint8Array)).toThrow(TypeError);
  });
});
