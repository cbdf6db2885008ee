/**
 * Showing bytes as Python 3 shows them (tutorial 3.1.3: `b'abc\r\n'`), so output
 * of socklab's tools reads like the tutorial's.
 *
 * @module
 */

/** How each byte is written between single quotes, and between double quotes. */
const SINGLE: readonly string[] = table("'");
const DOUBLE: readonly string[] = table('"');

function table(quote: string): string[] {
  const out: string[] = [];
  for (let b = 0; b < 256; b++) {
    const c = String.fromCharCode(b);
    if (c === quote || c === "\\") out.push("\\" + c);
    else if (c === "\t") out.push("\\t");
    else if (c === "\n") out.push("\\n");
    else if (c === "\r") out.push("\\r");
    else if (b < 0x20 || b >= 0x7f) out.push("\\x" + b.toString(16).padStart(2, "0"));
    else out.push(c);
  }
  return out;
}

/**
 * Writes bytes exactly as Python 3's `repr(bytes)` does: printable ASCII as it is,
 * `\t` `\n` `\r` `\\` escaped, other bytes as `\xNN` (lower-case hex), in single
 * quotes unless the bytes hold `'` and no `"`.
 *
 * @param bytes The bytes.
 * @returns The Python literal, such as `b'abc\r\n'`.
 * @example
 * ```ts
 * import { bytesRepr } from "@socklab/core";
 * bytesRepr(Buffer.from("abc\r\n")); // "b'abc\\r\\n'"
 * bytesRepr(Buffer.from("it's")); // `b"it's"`
 * bytesRepr(Uint8Array.of(0x00, 0xff)); // "b'\\x00\\xff'"
 * ```
 */
export function bytesRepr(bytes: Uint8Array): string {
  const useDouble = bytes.includes(0x27) && !bytes.includes(0x22);
  const quote = useDouble ? '"' : "'";
  const escapes = useDouble ? DOUBLE : SINGLE;
  let out = "b" + quote;
  for (let i = 0; i < bytes.length; i++) out += escapes[bytes[i]!]!;
  return out + quote;
}
