/**
 * How socklab commands print: human lines (coloured only on a TTY without
 * `NO_COLOR`), or with `--json` one JSON object per event on stdout.
 *
 * @module
 */
import type { Writable } from "node:stream";

/** Settings of an {@linkcode Output}. */
export interface OutputOptions {
  /** One JSON object per event instead of lines. */
  json?: boolean;
  /** No per-event lines (the ready line and errors still print). */
  quiet?: boolean;
  /** Colours; by default only when stdout is a TTY and `NO_COLOR` is unset. */
  color?: boolean;
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable;
}

type Style = (text: string) => string;

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

/** Printer shared by every command. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Colour helpers that return the text unchanged when colours are off. */
  readonly style: Record<keyof typeof codes, Style>;

  constructor(options: OutputOptions = {}) {
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    const tty = (this.stdout as { isTTY?: boolean }).isTTY === true;
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
    this.color = !this.json && (options.color ?? (tty && !noColor));
    const make = ([on, off]: readonly [number, number]): Style =>
      this.color ? (text) => `\x1b[${on}m${text}\x1b[${off}m` : (text) => text;
    this.style = {
      bold: make(codes.bold),
      dim: make(codes.dim),
      red: make(codes.red),
      green: make(codes.green),
      yellow: make(codes.yellow),
      cyan: make(codes.cyan),
    };
  }

  /**
   * Reports an event: a JSON object with `--json`, else the line (unless `--quiet`).
   *
   * @param event The event's name (`connection`, `datagram`, …).
   * @param fields Its data for JSON; `Uint8Array` values are written as base64 with a `…Text` twin when valid UTF-8 is wanted by the caller.
   * @param line The human line.
   */
  event(event: string, fields: Record<string, unknown>, line: string | (() => string)): void {
    if (this.json) {
      this.stdout.write(
        `${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`,
      );
    } else if (!this.quiet) {
      this.stdout.write(`${typeof line === "function" ? line() : line}\n`);
    }
  }

  /**
   * The line a server prints once when it is ready, even with `--quiet`:
   * `listening on tcp://127.0.0.1:50000`.
   *
   * @param addresses The bound addresses in URI form (the real port for `--port 0`).
   */
  listening(addresses: readonly string[]): void {
    if (this.json) {
      this.stdout.write(
        `${JSON.stringify({ event: "listening", time: new Date().toISOString(), addresses })}\n`,
      );
      return;
    }
    for (const address of addresses) this.stdout.write(`listening on ${address}\n`);
  }

  /** A plain line on stdout (skipped with `--json`, where only events are printed). */
  line(text: string): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** A note on stderr: warnings and hints, one line each, never in the stdout stream. */
  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Raw bytes on stdout (a client's received data). */
  raw(data: Uint8Array | string): boolean {
    return this.stdout.write(data);
  }
}
