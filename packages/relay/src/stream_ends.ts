/**
 * The ends {@linkcode copyBothWays} copies between: a stream connection, or a
 * process's stdin and stdout.
 *
 * @module
 */
import type { Readable, Writable } from "node:stream";
import type { StreamConnection } from "@socklab/core";
import type { StreamEnd } from "./copy_both_ways.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Makes a TCP or UNIX stream connection an end of a copy: its chunks as they
 * arrive (reading pauses while the copy waits), writes with backpressure, a FIN
 * for the half-close, a graceful close.
 *
 * @param conn The connection.
 * @param name How users read it (`tcp://127.0.0.1:50000`).
 * @returns The end.
 * @example
 * ```ts
 * import { connectTcp } from "@socklab/tcp-client";
 * import { connectionEnd } from "@socklab/relay";
 * const end = connectionEnd(await connectTcp({ host: "localhost", port: 50000 }), "tcp://localhost:50000");
 * ```
 */
export function connectionEnd(conn: StreamConnection, name: string): StreamEnd {
  return {
    name,
    chunks: conn,
    write: (chunk) => conn.write(chunk),
    end: () => conn.end(),
    close: () => conn.close(),
    destroy: (reason) => conn.destroy(reason),
  };
}

/** Options of {@linkcode stdioEnd}. */
export interface StdioEndOptions {
  /** Where the end's bytes come from; `null` for an end that sends nothing. Default `process.stdin`. */
  input?: Readable | null;
  /** Where the bytes it is given go; `null` to discard them. Default `process.stdout`. */
  output?: Writable | null;
  /** How users read it. Default `"stdio"`. */
  name?: string;
}

/**
 * Makes stdin and stdout an end of a copy, as `nc` uses them: stdin's bytes are
 * sent, what is given is written to stdout, both binary-safe and with
 * backpressure. Stdin is read without being taken over: when the copy ends
 * early, stdin stays readable for the next copy (`nc -k` serves one client
 * after another from one stdin). The half-close does not close stdout, which
 * the process may still use.
 *
 * @param options Input, output and name.
 * @returns The end.
 * @example
 * ```ts
 * import { copyBothWays, connectionEnd, stdioEnd } from "@socklab/relay";
 * // copyBothWays(stdioEnd(), connectionEnd(conn, "tcp://localhost:50000"));
 * const sendOnly = stdioEnd({ output: null });
 * ```
 */
export function stdioEnd(options: StdioEndOptions = {}): StreamEnd {
  const input = options.input === undefined ? process.stdin : options.input;
  const output = options.output === undefined ? process.stdout : options.output;
  const chunks = input === null ? undefined : new ReadableChunks(input);
  let destroyed: Error | undefined;
  const write =
    output === null
      ? undefined
      : (chunk: Uint8Array): Promise<void> => {
          if (destroyed !== undefined) return Promise.reject(destroyed);
          if (output.write(chunk)) return RESOLVED;
          return new Promise<void>((resolve, reject) => {
            const settle = (err?: Error): void => {
              output.off("drain", onDrain);
              output.off("error", onError);
              output.off("close", onClose);
              if (err === undefined) resolve();
              else reject(err);
            };
            const onDrain = (): void => settle();
            const onError = (err: Error): void => settle(err);
            const onClose = (): void => settle(new Error("The output closed"));
            output.on("drain", onDrain);
            output.on("error", onError);
            output.on("close", onClose);
          });
        };
  return {
    name: options.name ?? "stdio",
    ...(chunks === undefined ? {} : { chunks }),
    ...(write === undefined ? {} : { write }),
    end: () => RESOLVED,
    close: async () => chunks?.stop(),
    destroy: (reason) => {
      destroyed ??= reason ?? new Error("The copy stopped");
      chunks?.stop();
    },
  };
}

/**
 * The chunks of a readable stream as an async iterable that can be stopped
 * without destroying the stream (a `for await` over the stream itself destroys
 * it on `break`, and cannot be interrupted while it waits).
 */
class ReadableChunks implements AsyncIterable<Uint8Array> {
  readonly #readable: Readable;
  #stopped = false;
  #wake: (() => void) | undefined;
  #error: Error | undefined;

  constructor(readable: Readable) {
    this.#readable = readable;
  }

  stop(): void {
    this.#stopped = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const readable = this.#readable;
    const wake = (): void => this.#wake?.();
    const onError = (err: Error): void => {
      this.#error = err;
      wake();
    };
    readable.on("readable", wake);
    readable.on("end", wake);
    readable.on("close", wake);
    readable.on("error", onError);
    try {
      while (!this.#stopped) {
        const chunk = readable.read() as Buffer | string | null;
        if (chunk !== null) {
          yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (readable.readableEnded || readable.destroyed) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
      }
    } finally {
      readable.off("readable", wake);
      readable.off("end", wake);
      readable.off("close", wake);
      readable.off("error", onError);
    }
  }
}
