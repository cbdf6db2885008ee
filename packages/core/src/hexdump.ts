/**
 * Hex dumps in the layout of `xxd`, for looking at bytes that are not text.
 *
 * @module
 */

import { invalidArgument } from "./errors.ts";

/** Options of {@linkcode hexdump}. */
export interface HexdumpOptions {
  /** The address shown for the first byte, as `xxd -o`: where the bytes sit in a longer stream. Default 0. */
  offset?: number;
  /** Bytes per line, 1 to 256, as `xxd -c`. Default 16. */
  width?: number;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b.toString(16).padStart(2, "0"),
);
const SHOWN: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : ".",
);

/**
 * Formats bytes as `xxd` does: an offset of at least 8 hex digits, a colon, the bytes
 * in hex in groups of two, padded to the full width, two spaces and the bytes as
 * printable ASCII (`.` for anything else).
 *
 * @param bytes The bytes.
 * @param options `offset` of the first byte and `width` in bytes per line.
 * @returns The lines joined by `"\n"`, without a final newline; `""` for no bytes.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_OPTION` for a width outside 1 to 256 or an
 *   offset that is not a non-negative safe integer.
 * @example
 * ```ts
 * import { hexdump } from "@socklab/core";
 * hexdump(Buffer.from("Hello\n"));
 * // "00000000: 4865 6c6c 6f0a                           Hello."
 * ```
 */
export function hexdump(bytes: Uint8Array, options: HexdumpOptions = {}): string {
  const { offset = 0, width = 16 } = options;
  if (!Number.isInteger(width) || width < 1 || width > 256) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot dump ${String(width)} bytes per line: use 1 to 256`,
    );
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot dump from offset ${String(offset)}: use a non-negative integer`,
    );
  }
  // Two hex digits a byte and a space after every second byte but the last.
  const hexWidth = 2 * width + Math.floor((width - 1) / 2);
  const lines: string[] = [];
  for (let start = 0; start < bytes.length; start += width) {
    const end = Math.min(start + width, bytes.length);
    let hex = "";
    let text = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (i > start && (i - start) % 2 === 0) hex += " ";
      hex += HEX[b]!;
      text += SHOWN[b]!;
    }
    const address = (offset + start).toString(16).padStart(8, "0");
    lines.push(`${address}: ${hex.padEnd(hexWidth)}  ${text}`);
  }
  return lines.join("\n");
}
