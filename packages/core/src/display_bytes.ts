/**
 * How socklab's servers and clients print the bytes they receive: as text when
 * they are text, else as a Python-style literal (tutorial 3.1.3 and 3.1.5).
 *
 * @module
 */

import { bytesRepr } from "./bytes_repr.ts";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Control characters that would act on a terminal rather than show: C0 but TAB, LF and CR; DEL; C1. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/**
 * Shows received bytes: the text itself when they are valid UTF-8 with no control
 * characters but `\t`, `\n` and `\r` (so an escape sequence from a peer never reaches
 * the terminal), else {@linkcode bytesRepr}'s `b'...'` literal. The text is returned as
 * it is, line ends included; no bytes give `""`.
 *
 * @param bytes The bytes received.
 * @returns The text, or the Python-style literal.
 * @example
 * ```ts
 * import { displayBytes } from "@socklab/core";
 * displayBytes(Buffer.from("Grüße\r\n")); // "Grüße\r\n"
 * displayBytes(Uint8Array.of(0x61, 0xff)); // "b'a\\xff'"
 * displayBytes(Buffer.from("\x1b[2J")); // "b'\\x1b[2J'"
 * ```
 */
export function displayBytes(bytes: Uint8Array): string {
  let text: string;
  try {
    text = utf8Fatal.decode(bytes);
  } catch {
    return bytesRepr(bytes);
  }
  return CONTROL.test(text) ? bytesRepr(bytes) : text;
}

/**
 * Shows received bytes on one log line: like {@linkcode displayBytes}, without
 * one trailing line end (`nc` and `echo` add one); text that would still span
 * several lines is shown as the `b'...'` literal instead.
 *
 * @param bytes The bytes received.
 * @returns One line.
 * @example
 * ```ts
 * import { displayLine } from "@socklab/core";
 * displayLine(Buffer.from("Hallo Welt!\n")); // "Hallo Welt!"
 * displayLine(Buffer.from("a\nb")); // "b'a\\nb'"
 * ```
 */
export function displayLine(bytes: Uint8Array): string {
  const shown = displayBytes(bytes);
  // Text never equals its own literal (the literal is 3 characters longer), so this tells them apart.
  if (shown.startsWith("b") && shown === bytesRepr(bytes)) return shown;
  const text = shown.endsWith("\r\n")
    ? shown.slice(0, -2)
    : shown.endsWith("\n")
      ? shown.slice(0, -1)
      : shown;
  return text.includes("\n") || text.includes("\r") ? bytesRepr(bytes) : text;
}
