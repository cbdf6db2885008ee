import { once } from "node:events";
import { bytesRepr, isValidUtf8, type StreamConnection } from "@socklab/core";
import { connectUnix, type UnixPath } from "@socklab/unix-stream";
import { defineCommand, UsageError } from "../command.ts";
import { durationOption, messageOption, pathOption } from "../options.ts";
import type { Output } from "../output.ts";
import { hexdumpOption, type TrafficDump, trafficDump } from "./_traffic_dump.ts";

/** The tutorial's path (listing 3.9). */
const TUTORIAL_PATH = "/tmp/unixsocket_tcp";
/** What listing 3.9 sends. */
const TUTORIAL_MESSAGE = "Hallo Welt!";

/** Prints received bytes: raw on stdout (waiting while stdout is full), a `b'...'` line with `--repr`, or JSON. */
async function print(out: Output, chunk: Buffer, repr: boolean): Promise<void> {
  if (out.json) {
    const valid = isValidUtf8(chunk);
    out.event(
      "data",
      {
        bytes: chunk.length,
        [valid ? "text" : "base64"]: chunk.toString(valid ? "utf8" : "base64"),
      },
      "",
    );
    return;
  }
  const flowing = repr ? out.stdout.write(`${bytesRepr(chunk)}\n`) : out.raw(chunk);
  if (!flowing) await once(out.stdout, "drain");
}

/** Copies what the server sends to stdout until it closes its side. */
async function receive(
  conn: StreamConnection,
  out: Output,
  repr: boolean,
  dump: TrafficDump,
): Promise<void> {
  for await (const chunk of conn) {
    dump.received(`unix://${conn.remote}`, chunk);
    await print(out, chunk, repr);
  }
}

/** Copies stdin to the connection (each write waits until the kernel took the last one), then half-closes. */
async function sendStdin(
  conn: StreamConnection,
  stdin: NodeJS.ReadableStream,
  dump: TrafficDump,
): Promise<number> {
  let sent = 0;
  for await (const chunk of stdin) {
    const bytes = chunk as Buffer;
    sent += bytes.length;
    dump.sent(`unix://${conn.remote}`, bytes);
    await conn.write(bytes);
  }
  await conn.end();
  return sent;
}

/** `socklab unix-stream-client`: the tutorial's listing 3.9, or `nc -U`. */
export default defineCommand({
  name: "unix-stream-client",
  summary: 'Send "Hallo Welt!" to a UNIX stream socket, or pipe stdin like nc -U (3.3.4)',
  usage: "[options]",
  description: [
    'Connects to a UNIX stream socket and sends "Hallo Welt!" (listing 3.9), or --message.',
    "Then it half-closes the connection (the server reads the end) and prints whatever",
    "the server answers until it closes. --stdin sends standard input instead, byte for",
    "byte, while printing what comes back, like nc -U; the end of input half-closes.",
    "--path @name connects to a Linux abstract name.",
  ].join("\n"),
  examples: [
    "socklab unix-stream-client",
    "socklab unix-stream-client --path /tmp/echo.sock --message 'GET\\r\\n' --repr",
    "printf 'one\\ntwo\\n' | socklab unix-stream-client --path /tmp/echo.sock --stdin",
    "socklab unix-stream-client --path @socklab",
  ],
  options: {
    path: pathOption(TUTORIAL_PATH),
    message: messageOption(`"${TUTORIAL_MESSAGE}"`),
    stdin: {
      type: "boolean",
      description:
        "Send standard input and print the replies, like nc -U; end of input half-closes",
    },
    repr: {
      type: "boolean",
      description: "Print received bytes as Python bytes literals (b'...'), one line per chunk",
    },
    hexdump: hexdumpOption,
    timeout: durationOption("timeout", "Give up connecting after this long", { short: "t" }),
  },
  async run({ values, out, signal }) {
    const target: UnixPath = values.path;
    if (values.stdin && values.message !== undefined) {
      throw new UsageError("Cannot send both --message and --stdin: pick one");
    }
    let conn: StreamConnection;
    try {
      conn = await connectUnix({
        path: target.path,
        abstract: target.abstract,
        signal,
        ...(values.timeout === undefined ? {} : { timeoutMs: values.timeout }),
      });
    } catch (err) {
      if (signal.aborted) return 0; // Ctrl-C while connecting
      throw err;
    }
    const label = conn.remote;
    const dump = trafficDump(values.hexdump, out.stderr, "stream");
    // Stdout carries the server's bytes only; what the client did goes to stderr (JSON: stdout).
    const status = (event: string, fields: Record<string, unknown>, line?: string): void => {
      if (out.json) out.event(event, fields, "");
      else if (line !== undefined && !out.quiet) out.note(line);
    };
    status("connected", { path: label });
    // Ctrl-C: send a FIN and stop; what arrived is printed, the exit code is 0.
    const stopStdin = (): void => {
      if (values.stdin) process.stdin.destroy();
    };
    const stop = (): void => {
      stopStdin();
      void conn.close({ timeoutMs: 500 });
    };
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) stop();
    try {
      let sent: number;
      if (values.stdin) {
        const receiving = receive(conn, out, values.repr, dump);
        const sending = sendStdin(conn, process.stdin, dump);
        // A failed send (the server closed) must not leave us waiting for a reply, nor the
        // other way round; Promise.all reports the first failure.
        receiving.catch(stopStdin);
        sending.catch(() => conn.destroy());
        [, sent] = await Promise.all([receiving, sending]);
      } else {
        const message = values.message ?? Buffer.from(TUTORIAL_MESSAGE);
        dump.sent(`unix://${label}`, message);
        await conn.end(message);
        sent = message.length;
        status("sent", { path: label, bytes: sent }, `sent ${sent} bytes to ${label}`);
        await receive(conn, out, values.repr, dump);
      }
      status("closed", { path: label, sent, received: conn.bytesRead });
    } catch (err) {
      // Ctrl-C: our own close and the destroyed stdin end the copies with errors; a normal stop.
      if (signal.aborted) return 0;
      throw err;
    } finally {
      signal.removeEventListener("abort", stop);
      await conn.close({ timeoutMs: 500 });
    }
    return 0;
  },
});
