/**
 * Splitting a byte stream into lines (tutorial 3.1.6: `split('\r\n')`), with a
 * limit on line length so a peer cannot make a reader buffer without end.
 *
 * @module
 */

import { invalidArgument, LimitExceededError } from "./errors.ts";

/** Options of {@linkcode LineSplitter}. */
export interface LineSplitterOptions {
  /** The longest line accepted, in bytes without its terminator. Default 8192. */
  maxLineLength?: number;
  /** Whether lines keep their `\n` or `\r\n`. Default `false`. */
  keepEnds?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits chunks of bytes into lines ending in LF or CRLF, however the chunks are cut:
 * a CR at the end of one chunk and an LF at the start of the next are one CRLF. A CR
 * not followed by LF is part of the line. It works on bytes, so it never cuts a UTF-8
 * character; decode each line afterwards.
 *
 * A line longer than `maxLineLength` throws a `LimitExceededError` as soon as the
 * bytes received prove it, holding at most `maxLineLength + 1` bytes before that; lines
 * completed earlier in the same chunk are dropped with it, and the splitter stays failed:
 * every later call throws the same error.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "@socklab/core";
 * const splitter = new LineSplitter();
 * splitter.push(Buffer.from("GET / HTTP/1.1\r\nHost: 127.0.0.1:50000\r")); // [<Buffer "GET / HTTP/1.1">]
 * splitter.push(Buffer.from("\n\r\nrest")); // [<Buffer "Host: 127.0.0.1:50000">, <Buffer "">]
 * splitter.end(); // <Buffer "rest">
 * ```
 */
export class LineSplitter {
  /** The longest line accepted, in bytes without its terminator. */
  readonly maxLineLength: number;
  /** Whether lines keep their terminator. */
  readonly keepEnds: boolean;
  /** Copies of the bytes of the unfinished line, one per chunk, joined once when it ends. */
  #parts: Uint8Array[] = [];
  #length = 0;
  #failure: LimitExceededError | undefined;

  /**
   * @param options `maxLineLength` (default 8192) and `keepEnds` (default `false`).
   * @throws {RangeError} `ERR_SOCKLAB_INVALID_OPTION` when `maxLineLength` is not a positive safe integer.
   */
  constructor(options: LineSplitterOptions = {}) {
    const { maxLineLength = 8192, keepEnds = false } = options;
    if (!Number.isSafeInteger(maxLineLength) || maxLineLength < 1) {
      throw invalidArgument(
        "range",
        "ERR_SOCKLAB_INVALID_OPTION",
        `Cannot use "${String(maxLineLength)}" as the longest line: use a positive integer`,
      );
    }
    this.maxLineLength = maxLineLength;
    this.keepEnds = keepEnds;
  }

  /**
   * Adds the next chunk.
   *
   * @param chunk The bytes that arrived; the splitter keeps no reference to it.
   * @returns The lines this chunk completes, as new `Buffer`s (maybe none).
   * @throws {LimitExceededError} `ERR_SOCKLAB_LIMIT_EXCEEDED` for a line longer than `maxLineLength`.
   * @example
   * ```ts
   * import { LineSplitter } from "@socklab/core";
   * const splitter = new LineSplitter({ keepEnds: true });
   * splitter.push(Buffer.from("a\nb\r\nc")).map(String); // ["a\n", "b\r\n"]
   * ```
   */
  push(chunk: Uint8Array): Buffer[] {
    if (this.#failure !== undefined) throw this.#failure;
    if (!(chunk instanceof Uint8Array)) {
      throw invalidArgument(
        "type",
        "ERR_SOCKLAB_INVALID_ARGUMENT",
        `Cannot split a ${typeof chunk}: expected a Uint8Array or Buffer`,
      );
    }
    const lines: Buffer[] = [];
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
      lines.push(this.#line(chunk, start, lf));
      start = lf + 1;
    }
    if (start < chunk.length) {
      const length = this.#length + chunk.length - start;
      // One byte more than the limit may still be the CR of a CRLF.
      const limit = this.maxLineLength;
      if (length > limit + 1 || (length === limit + 1 && chunk[chunk.length - 1] !== CR)) {
        throw this.#fail();
      }
      // A copy (`Buffer#slice()` would be a view): the caller may reuse its buffer.
      this.#parts.push(new Uint8Array(chunk.subarray(start)));
      this.#length = length;
    }
    return lines;
  }

  /**
   * Ends the input and makes the splitter ready for a new stream.
   *
   * @returns The bytes after the last line terminator as they are (a final CR
   *   included), or `undefined` when there are none.
   * @throws {LimitExceededError} When those bytes are longer than `maxLineLength`.
   * @example
   * ```ts
   * import { LineSplitter } from "@socklab/core";
   * const splitter = new LineSplitter();
   * splitter.push(Buffer.from("abc\r\ndef"));
   * String(splitter.end()); // "def"
   * splitter.end(); // undefined
   * ```
   */
  end(): Buffer | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#length === 0) return undefined;
    if (this.#length > this.maxLineLength) throw this.#fail();
    const rest = Buffer.concat(this.#parts, this.#length);
    this.#parts = [];
    this.#length = 0;
    return rest;
  }

  /** The line that ends with the LF at `chunk[lf]`, its start being the bytes held plus `chunk[start..lf]`. */
  #line(chunk: Uint8Array, start: number, lf: number): Buffer {
    const length = this.#length + lf - start;
    const beforeLf = lf > start ? chunk[lf - 1] : this.#parts.at(-1)?.at(-1);
    const content = beforeLf === CR ? length - 1 : length;
    if (content > this.maxLineLength) throw this.#fail();
    const wanted = this.keepEnds ? length + 1 : content;
    let line: Buffer;
    if (this.#parts.length === 0) {
      line = Buffer.allocUnsafe(wanted);
      line.set(chunk.subarray(start, start + wanted));
    } else {
      // Buffer.concat() cuts the result to `wanted` bytes, dropping the terminator.
      this.#parts.push(chunk.subarray(start, lf + 1));
      line = Buffer.concat(this.#parts, wanted);
      this.#parts = [];
      this.#length = 0;
    }
    return line;
  }

  #fail(): LimitExceededError {
    this.#parts = [];
    this.#length = 0;
    this.#failure = new LimitExceededError(
      `Cannot read a line longer than ${this.maxLineLength} bytes`,
      this.maxLineLength,
    );
    return this.#failure;
  }
}
