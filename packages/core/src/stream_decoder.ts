/**
 * Decoding text that arrives in chunks, as it does from a stream socket: a
 * multi-byte UTF-8 character may be split between two `recv()` calls anywhere.
 *
 * @module
 */

import type { TextEncodingName } from "./encoding.ts";
import { invalidArgument, SocklabError } from "./errors.ts";

/** Options of {@linkcode StreamDecoder}. */
export interface StreamDecoderOptions {
  /**
   * `true` (the default) throws on bytes the encoding cannot decode, and on a
   * UTF-8 character cut short by the end of the stream; `false` puts U+FFFD (�)
   * in their place.
   */
  fatal?: boolean;
}

const EMPTY = new Uint8Array(0);
const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Replace = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decodes a stream of byte chunks as text, holding back the bytes of a character
 * that is not complete yet. The text is the same however the bytes are split.
 *
 * In fatal mode the first undecodable byte throws a `SocklabError` naming its offset
 * in the whole stream (`ERR_SOCKLAB_INVALID_UTF8` or `ERR_SOCKLAB_INVALID_ASCII`);
 * the decoder then stays failed and every later call throws the same error. A UTF-8
 * byte order mark is kept as U+FEFF.
 *
 * @example
 * ```ts
 * import { StreamDecoder } from "@socklab/core";
 * const decoder = new StreamDecoder("utf-8");
 * decoder.push(Uint8Array.of(0x47, 0x72, 0xc3)); // "Gr" (0xc3 waits for the rest of "ü")
 * decoder.push(Uint8Array.of(0xbc, 0xc3, 0x9f, 0x65)); // "üße"
 * decoder.end(); // ""
 * ```
 */
export class StreamDecoder {
  /** The encoding. */
  readonly encoding: TextEncodingName;
  /** Whether undecodable bytes throw (rather than becoming U+FFFD). */
  readonly fatal: boolean;
  /** The start of a UTF-8 character whose other bytes have not arrived: at most 3 bytes. */
  #pending: Uint8Array = EMPTY;
  /** The offset in the stream of the first byte not decoded yet. */
  #offset = 0;
  #failure: SocklabError | undefined;

  /**
   * @param encoding `"utf-8"` (the default), `"ascii"` or `"latin1"`; use
   *   `parseEncodingName()` to read a name a user typed.
   * @param options `fatal: false` replaces undecodable bytes with U+FFFD.
   * @throws {TypeError} `ERR_SOCKLAB_UNKNOWN_ENCODING` for any other encoding.
   */
  constructor(encoding: TextEncodingName = "utf-8", options: StreamDecoderOptions = {}) {
    if (encoding !== "utf-8" && encoding !== "ascii" && encoding !== "latin1") {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_UNKNOWN_ENCODING",
        `Cannot use encoding "${String(encoding)}": use "utf-8", "ascii" or "latin1"`,
      );
    }
    this.encoding = encoding;
    this.fatal = options.fatal ?? true;
  }

  /**
   * Decodes the next chunk.
   *
   * @param chunk The bytes that arrived; the decoder keeps no reference to it.
   * @returns The text of every character completed by this chunk (maybe `""`).
   * @throws {SocklabError} In fatal mode, for undecodable bytes.
   * @example
   * ```ts
   * import { StreamDecoder } from "@socklab/core";
   * const decoder = new StreamDecoder();
   * decoder.push(Buffer.from("abc\r\n")); // "abc\r\n"
   * ```
   */
  push(chunk: Uint8Array): string {
    if (this.#failure !== undefined) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_INVALID_ARGUMENT",
        `Cannot decode a ${typeof chunk}: expected a Uint8Array or Buffer`,
      );
    }
    if (this.encoding === "utf-8") return this.#pushUtf8(chunk);
    const base = this.#offset;
    this.#offset += chunk.length;
    if (this.encoding === "latin1") return latin1(chunk);
    return this.#ascii(chunk, base);
  }

  /**
   * Ends the stream and makes the decoder ready for a new one.
   *
   * @returns What the held-back bytes decode to: `""`, or in non-fatal mode `"\uFFFD"`
   *   for a UTF-8 character cut short.
   * @throws {SocklabError} In fatal mode, when the stream ends inside a UTF-8 character.
   * @example
   * ```ts
   * import { StreamDecoder } from "@socklab/core";
   * const decoder = new StreamDecoder("utf-8", { fatal: false });
   * decoder.push(Uint8Array.of(0x61, 0xe2, 0x82)); // "a"
   * decoder.end(); // "\uFFFD"
   * ```
   */
  end(): string {
    if (this.#failure !== undefined) throw this.#failure;
    const pending = this.#pending;
    const offset = this.#offset;
    this.#pending = EMPTY;
    this.#offset = 0;
    if (pending.length === 0) return "";
    if (this.fatal) {
      throw this.#fail(
        `Cannot decode the bytes as UTF-8: the stream ends inside the sequence ${hexBytes(pending)} at offset ${offset}`,
        "ERR_SOCKLAB_INVALID_UTF8",
      );
    }
    // The held bytes are always the valid start of one character: one replacement.
    return "\uFFFD";
  }

  #pushUtf8(chunk: Uint8Array): string {
    let data = chunk;
    if (this.#pending.length > 0) {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending);
      data.set(chunk, this.#pending.length);
    }
    const cut = heldBackStart(data);
    const complete = cut === data.length ? data : data.subarray(0, cut);
    let text: string;
    if (this.fatal) {
      try {
        text = utf8Fatal.decode(complete);
      } catch {
        throw this.#invalidUtf8(data);
      }
    } else {
      text = utf8Replace.decode(complete);
    }
    // A copy (`Buffer#slice()` would be a view): the caller may reuse its buffer.
    this.#pending = cut === data.length ? EMPTY : new Uint8Array(data.subarray(cut));
    this.#offset += cut;
    return text;
  }

  #ascii(chunk: Uint8Array, base: number): string {
    const high = chunk.findIndex((b) => b > 0x7f);
    if (high === -1) return latin1(chunk);
    if (this.fatal) {
      throw this.#fail(
        `Cannot decode the bytes as ASCII: invalid byte ${hexBytes(chunk.subarray(high, high + 1))} at offset ${base + high}`,
        "ERR_SOCKLAB_INVALID_ASCII",
      );
    }
    let text = "";
    let start = 0;
    for (let i = high; i < chunk.length; i++) {
      if (chunk[i]! > 0x7f) {
        text += latin1(chunk.subarray(start, i)) + "\uFFFD";
        start = i + 1;
      }
    }
    return text + latin1(chunk.subarray(start));
  }

  /** The error for the first invalid sequence in `data`, which starts at `this.#offset`. */
  #invalidUtf8(data: Uint8Array): SocklabError {
    let i = 0;
    while (i < data.length) {
      const length = sequenceLength(data, i);
      if (length > 0) {
        i += length;
        continue;
      }
      // The lead byte, and the bytes up to the one that shows the sequence is invalid.
      const shown = length === 0 ? data.subarray(i) : data.subarray(i, i - length);
      const what = shown.length === 1 ? "byte" : "sequence";
      return this.#fail(
        `Cannot decode the bytes as UTF-8: invalid ${what} ${hexBytes(shown)} at offset ${this.#offset + i}`,
        "ERR_SOCKLAB_INVALID_UTF8",
      );
    }
    // Not reached: TextDecoder rejected the bytes, so one sequence is invalid.
    return this.#fail("Cannot decode the bytes as UTF-8", "ERR_SOCKLAB_INVALID_UTF8");
  }

  #fail(message: string, code: string): SocklabError {
    this.#failure = new SocklabError(message, { code });
    return this.#failure;
  }
}

/**
 * Checks the UTF-8 sequence at `bytes[i]` against Unicode's table of well-formed
 * sequences (no overlong forms, surrogates or values above U+10FFFF).
 *
 * @returns Its length (1 to 4) when it is complete and valid; `-(k + 1)` when `bytes[i + k]`
 *   makes it invalid (`-1` for a byte that cannot start a character); `0` when it is a
 *   valid start cut short by the end of `bytes`.
 */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]!;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
  } else return -1;
  for (let k = 1; k < length; k++) {
    if (i + k >= bytes.length) return 0;
    const b = bytes[i + k]!;
    if (b < low || b > high) return -(k + 1);
    low = 0x80;
    high = 0xbf;
  }
  return length;
}

/**
 * Where the bytes to hold back start: the last character when it is a valid
 * start cut short by the end of `data`, else `data.length` (hold nothing). An
 * invalid sequence is never held back; it decodes the same whatever follows.
 */
function heldBackStart(data: Uint8Array): number {
  const n = data.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const b = data[n - k]!;
    if (b >= 0x80 && b <= 0xbf) continue;
    return sequenceLength(data, n - k) === 0 ? n - k : n;
  }
  return n;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, "0")}`).join(" ");
}
