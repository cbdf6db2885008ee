/**
 * Reading escape sequences in command-line arguments, so users can send bytes
 * such as `\r\n` (tutorial 3.1.7) or `\xff` that a shell argument cannot hold.
 *
 * @module
 */

import { encode } from "./encoding.ts";
import { invalidArgument } from "./errors.ts";

const BACKSLASH = 0x5c;

/** The byte of each single-character escape, as in Python's bytes literals (plus `\e`). */
const SIMPLE: ReadonlyMap<number, number> = new Map([
  [0x5c, 0x5c], // \\
  [0x22, 0x22], // \"
  [0x27, 0x27], // \'
  [0x61, 0x07], // \a
  [0x62, 0x08], // \b
  [0x65, 0x1b], // \e
  [0x66, 0x0c], // \f
  [0x6e, 0x0a], // \n
  [0x72, 0x0d], // \r
  [0x74, 0x09], // \t
  [0x76, 0x0b], // \v
  [0x30, 0x00], // \0
]);

const HELP = "use \\r \\n \\t \\0 \\\\ \\\" \\' \\a \\b \\e \\f \\v or \\xNN";

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Turns text with escape sequences into bytes: `\r \n \t \0 \\ \" \'`, `\a \b \e \f \v`
 * and `\xNN` (two hex digits, any byte). Everything else is encoded as UTF-8. Octal
 * escapes are refused rather than guessed: write `\x01`, not `\01`.
 *
 * @param text The text, such as a command-line argument.
 * @returns The bytes.
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_ESCAPE`, naming the escape and its position
 *   (in characters from 0), for an unknown escape, `\x` without two hex digits, `\0`
 *   followed by an octal digit, or a final lone backslash.
 * @throws {RangeError} `ERR_SOCKLAB_UNENCODABLE` for a lone surrogate.
 * @example
 * ```ts
 * import { parseEscapes } from "@socklab/core";
 * parseEscapes("GET / HTTP/1.0\\r\\n\\r\\n"); // <Buffer 47 45 54 ... 0d 0a 0d 0a>
 * parseEscapes("\\xff\\x00ü"); // <Buffer ff 00 c3 bc>
 * ```
 */
export function parseEscapes(text: string): Buffer {
  // UTF-8 never uses 0x5c inside a multi-byte character, so the bytes can be scanned.
  const source = encode(text);
  let backslash = source.indexOf(BACKSLASH);
  if (backslash === -1) return source;
  const out = Buffer.allocUnsafe(source.length);
  let length = 0;
  let start = 0;
  while (backslash !== -1) {
    length += source.copy(out, length, start, backslash);
    const kind = source[backslash + 1];
    let consumed = 2;
    let byte: number | undefined;
    if (kind === 0x78) {
      const high = hexValue(source[backslash + 2]);
      const low = hexValue(source[backslash + 3]);
      if (high === -1 || low === -1) {
        throw invalidEscape(source, backslash, 4, "\\x needs two hex digits");
      }
      byte = high * 16 + low;
      consumed = 4;
    } else if (kind === undefined) {
      throw invalidEscape(source, backslash, 1, "the text ends with a lone backslash");
    } else {
      byte = SIMPLE.get(kind);
      if (byte === undefined) throw invalidEscape(source, backslash, 2, HELP);
      const next = source[backslash + 2];
      if (kind === 0x30 && next !== undefined && next >= 0x30 && next <= 0x37) {
        throw invalidEscape(source, backslash, 3, "octal escapes are not supported, use \\xNN");
      }
    }
    out[length++] = byte;
    start = backslash + consumed;
    backslash = source.indexOf(BACKSLASH, start);
  }
  length += source.copy(out, length, start);
  return out.subarray(0, length);
}

function invalidEscape(source: Buffer, at: number, size: number, why: string): TypeError {
  // Show whole characters: stop before a continuation byte cut in two.
  let end = Math.min(at + size, source.length);
  while (end < source.length && (source[end]! & 0xc0) === 0x80) end++;
  const shown = source.toString("utf8", at, end);
  let position = 0;
  for (let i = 0; i < at; i++) if ((source[i]! & 0xc0) !== 0x80) position++;
  return invalidArgument(
    "type",
    "ERR_SOCKLAB_INVALID_ESCAPE",
    `Cannot read escape "${shown}" at position ${position}: ${why}`,
  ) as TypeError;
}
