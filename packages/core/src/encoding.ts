/**
 * Turning text into bytes and back (tutorial 3.1.5 and 4.3: `encode()` and
 * `decode()`), for the three encodings socklab's tools offer.
 *
 * Unlike `Buffer.from(text, "ascii")` and `TextDecoder`, nothing here mangles
 * data silently: a character an encoding cannot hold, or bytes that are not
 * valid UTF-8, are reported with their position.
 *
 * @module
 */

import { invalidArgument } from "./errors.ts";
import { StreamDecoder } from "./stream_decoder.ts";

/**
 * The text encodings socklab offers: UTF-8, 7-bit ASCII and ISO-8859-1 (Latin-1,
 * every byte one character U+0000 to U+00FF, as Python's `latin1`, not windows-1252).
 */
export type TextEncodingName = "utf-8" | "ascii" | "latin1";

/** Options of {@linkcode decode}. */
export interface DecodeOptions {
  /**
   * `true` (the default) throws on bytes the encoding cannot decode;
   * `false` puts U+FFFD (�) in their place, as Python's `errors="replace"`.
   */
  fatal?: boolean;
}

const ALIASES: ReadonlyMap<string, TextEncodingName> = new Map([
  ["utf-8", "utf-8"],
  ["utf8", "utf-8"],
  ["ascii", "ascii"],
  ["us-ascii", "ascii"],
  ["latin1", "latin1"],
  ["latin-1", "latin1"],
  ["iso-8859-1", "latin1"],
  ["iso8859-1", "latin1"],
  ["l1", "latin1"],
]);

/**
 * Reads an encoding name as users and Python write it, ignoring case, `_`
 * and spaces in place of `-`.
 *
 * @param name `utf-8`, `utf8`, `UTF-8`, `ascii`, `us-ascii`, `latin1`, `latin-1`,
 *   `iso-8859-1`, `iso8859-1` or `l1`.
 * @returns The canonical name.
 * @throws {TypeError} `ERR_SOCKLAB_UNKNOWN_ENCODING` for any other name.
 * @example
 * ```ts
 * import { parseEncodingName } from "@socklab/core";
 * parseEncodingName("ISO-8859-1"); // "latin1"
 * parseEncodingName("utf8"); // "utf-8"
 * ```
 */
export function parseEncodingName(name: string): TextEncodingName {
  const key = typeof name === "string" ? name.trim().toLowerCase().replace(/[_ ]/g, "-") : "";
  const found = ALIASES.get(key);
  if (found === undefined) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_UNKNOWN_ENCODING",
      `Cannot use encoding "${String(name)}": use utf-8, ascii or latin1`,
    );
  }
  return found;
}

/** The canonical name, accepting aliases from JavaScript callers that bypass the type. */
function canonical(encoding: TextEncodingName): TextEncodingName {
  return encoding === "utf-8" || encoding === "ascii" || encoding === "latin1"
    ? encoding
    : parseEncodingName(encoding);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NON_ASCII = /[^\x00-\x7f]/;
const NON_LATIN1 = /[^\x00-\xff]/;

/** The position in characters (code points) of the UTF-16 `index` in `text`. */
function codePointIndex(text: string, index: number): number {
  return [...text.slice(0, index)].length;
}

function unencodable(
  text: string,
  index: number,
  encoding: TextEncodingName,
  why: string,
): RangeError {
  const codePoint = text.codePointAt(index) ?? 0;
  const hex = codePoint.toString(16).toUpperCase().padStart(4, "0");
  const shown =
    codePoint >= 0x20 &&
    codePoint !== 0x7f &&
    !(codePoint >= 0x80 && codePoint < 0xa0) &&
    (codePoint < 0xd800 || codePoint > 0xdfff)
      ? ` "${String.fromCodePoint(codePoint)}"`
      : "";
  return invalidArgument(
    "range",
    "ERR_SOCKLAB_UNENCODABLE",
    `Cannot encode character U+${hex}${shown} at position ${codePointIndex(text, index)} as ${encoding}: ${why}`,
  ) as RangeError;
}

/**
 * Encodes text as bytes, like Python's `str.encode()`.
 *
 * @param text The text.
 * @param encoding `"utf-8"` (the default), `"ascii"` or `"latin1"`.
 * @returns The bytes, as a new `Buffer`.
 * @throws {RangeError} `ERR_SOCKLAB_UNENCODABLE`, naming the character and its position
 *   (counted in characters from 0), for a character above U+007F in ASCII, above U+00FF
 *   in Latin-1, or a lone surrogate (which no encoding can hold).
 * @example
 * ```ts
 * import { encode } from "@socklab/core";
 * encode("GET / HTTP/1.0\r\n"); // <Buffer 47 45 54 20 2f ...>
 * encode("Grüße", "latin1"); // <Buffer 47 72 fc df 65>
 * encode("Grüße", "ascii"); // throws RangeError: Cannot encode character U+00FC "ü" at position 2 as ascii: …
 * ```
 */
export function encode(text: string, encoding: TextEncodingName = "utf-8"): Buffer {
  if (typeof text !== "string") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_ARGUMENT",
      `Cannot encode a ${typeof text}: expected a string`,
    );
  }
  const name = canonical(encoding);
  if (name === "utf-8") {
    const lone = LONE_SURROGATE.exec(text);
    if (lone !== null) {
      throw unencodable(text, lone.index, name, "a lone surrogate is not a character");
    }
    return Buffer.from(text, "utf8");
  }
  const outside = (name === "ascii" ? NON_ASCII : NON_LATIN1).exec(text);
  if (outside !== null) {
    const range = name === "ascii" ? "U+0000 to U+007F" : "U+0000 to U+00FF";
    throw unencodable(text, outside.index, name, `${name} holds ${range} only`);
  }
  return Buffer.from(text, "latin1");
}

/**
 * Decodes bytes as text, like Python's `bytes.decode()`. A UTF-8 byte order mark
 * is kept as U+FEFF, as Python's `utf-8` codec does.
 *
 * @param bytes The bytes.
 * @param encoding `"utf-8"` (the default), `"ascii"` or `"latin1"`.
 * @param options `fatal: false` replaces undecodable bytes with U+FFFD instead of throwing.
 * @returns The text.
 * @throws {SocklabError} `ERR_SOCKLAB_INVALID_UTF8` or `ERR_SOCKLAB_INVALID_ASCII`, naming the
 *   byte offset of the first undecodable byte, when `fatal` is `true`.
 * @example
 * ```ts
 * import { decode } from "@socklab/core";
 * decode(Buffer.from("abc\r\n")); // "abc\r\n"
 * decode(Uint8Array.of(0x61, 0xff), "utf-8", { fatal: false }); // "a\uFFFD"
 * decode(Uint8Array.of(0x61, 0xff)); // throws: Cannot decode the bytes as UTF-8: invalid byte 0xff at offset 1
 * ```
 */
export function decode(
  bytes: Uint8Array,
  encoding: TextEncodingName = "utf-8",
  options: DecodeOptions = {},
): string {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_ARGUMENT",
      `Cannot decode a ${typeof bytes}: expected a Uint8Array or Buffer`,
    );
  }
  // One decoder for the whole input: the same code, and the same errors, as a stream.
  const decoder = new StreamDecoder(canonical(encoding), { fatal: options.fatal ?? true });
  const text = decoder.push(bytes);
  return text + decoder.end();
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Whether bytes are well-formed UTF-8 (no overlong forms, surrogates or values
 * above U+10FFFF, nothing cut short at the end).
 *
 * @param bytes The bytes.
 * @returns `true` when {@linkcode decode} would succeed in fatal UTF-8 mode.
 * @example
 * ```ts
 * import { isValidUtf8 } from "@socklab/core";
 * isValidUtf8(Buffer.from("Grüße")); // true
 * isValidUtf8(Uint8Array.of(0xc0, 0xaf)); // false
 * ```
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    utf8Fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
