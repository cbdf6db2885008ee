import { once } from "node:events";
import { bytesRepr, parseEscapes, type StreamConnection, TimeoutError } from "@socklab/core";
import { connectTcp } from "@socklab/tcp-client";
import { defineCommand, UsageError } from "../command.ts";
import { durationOption, hostOption, portOption } from "../options.ts";
import type { Output } from "../output.ts";
import { hexdumpOption, trafficDump } from "./_traffic_dump.ts";

const DEFAULT_TIMEOUT_MS = 10_000;

function requestPath(value: string): string {
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw Object.assign(
      new RangeError(
        `Cannot use --path ${JSON.stringify(value)}: it must be printable ASCII without spaces, such as /index.html`,
      ),
      { code: "ERR_SOCKLAB_INVALID_OPTION" },
    );
  }
  return value;
}

/** `socklab tcp-client`: the tutorial's client (3.2), and raw TCP like nc. */
export default defineCommand({
  name: "tcp-client",
  summary: "The tutorial's client: fetch the page, or talk raw TCP like nc (3.2)",
  usage: "[options]",
  description: [
    "By default the tutorial's client (listing 3.3): connect, send GET / HTTP/1.0 and print",
    "the whole answer as it arrives, until the server closes the connection. The request",
    "ends with a blank line (GET / HTTP/1.0\\r\\n\\r\\n): the blank line completes the request",
    "head, so every HTTP server answers at once. Listing 3.3 sends only the request line;",
    "the tutorial's server answers anyway because it reads a single recv() and never waits",
    "for the end of the head.",
    "",
    "--send sends raw bytes instead (escapes \\r \\n \\t \\xNN) and half-closes; --stdin",
    "connects stdin and stdout to the socket like nc, binary-safe, half-closing at the end",
    "of input. localhost means ::1 and 127.0.0.1; both are tried as browsers do.",
    "Exit code 0 after a clean exchange, 1 with one line when connecting or receiving fails.",
  ].join("\n"),
  examples: [
    "socklab tcp-client",
    "socklab tcp-client --path /missing",
    "socklab tcp-client --send 'GET / HTTP/1.0\\r\\n' --repr",
    "printf 'abc\\r\\n' | socklab tcp-client --stdin --repr",
    "socklab tcp-client --host [::1] --port 8080 --timeout 2s",
  ],
  options: {
    host: { ...hostOption, description: "The server's host name or address ([::1] for IPv6)" },
    port: { ...portOption, description: "The server's port, or a service name such as http" },
    path: {
      type: "string",
      valueName: "PATH",
      description: "Request this path instead of / (GET PATH HTTP/1.0)",
      parse: requestPath,
    },
    send: {
      type: "string",
      valueName: "TEXT",
      description: "Send TEXT instead of the request (escapes \\r \\n \\t \\xNN), then half-close",
      parse: parseEscapes,
    },
    stdin: {
      type: "boolean",
      description: "Connect stdin and stdout to the socket like nc; half-close at the end of input",
    },
    repr: {
      type: "boolean",
      description: "Print received bytes as a Python bytes repr, one line per chunk received",
    },
    hexdump: hexdumpOption,
    timeout: durationOption(
      "timeout",
      "Connect timeout, and how long to wait for data (default 10s; --stdin waits forever unless given)",
    ),
  },
  async run({ values, out, signal }) {
    const modes = [
      values.path !== undefined ? "--path" : "",
      values.send !== undefined ? "--send" : "",
      values.stdin ? "--stdin" : "",
    ].filter((m) => m !== "");
    if (modes.length > 1) throw new UsageError(`Cannot use ${modes.join(" and ")} together`);
    if (values.port === 0) {
      throw new UsageError("Cannot connect to port 0: give the port the server listens on");
    }
    const { host, port } = values;
    const timeoutMs = values.timeout ?? DEFAULT_TIMEOUT_MS;
    const idleMs = values.stdin ? (values.timeout ?? 0) : timeoutMs;

    let conn: StreamConnection;
    try {
      conn = await connectTcp({ host, port, timeoutMs, signal });
    } catch (err) {
      if (signal.aborted) return 0;
      throw err;
    }
    if (out.json) out.event("connected", { remote: conn.remote, local: conn.local }, "");
    const stop = (): void => conn.destroy();
    signal.addEventListener("abort", stop, { once: true });
    if (idleMs > 0) {
      const remote = conn.remote;
      conn.setIdleTimeout(idleMs, () =>
        conn.destroy(
          new TimeoutError(
            `Cannot receive from "${remote}": no data for ${idleMs} ms (see --timeout)`,
            idleMs,
          ),
        ),
      );
    }
    const dump = trafficDump(values.hexdump, out.stderr, "stream");
    const peer = `tcp://${conn.remote}`;
    const send = (bytes: string | Buffer): Buffer => {
      const buffer = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      dump.sent(peer, buffer);
      return buffer;
    };
    const input = values.stdin ? new StdinPump(conn, (chunk) => send(chunk)) : undefined;
    let sent: Promise<void>;
    if (input !== undefined) {
      sent = input.run();
    } else if (values.send !== undefined) {
      sent = conn.end(send(values.send));
    } else {
      // No half-close after a request: some HTTP servers take it for a client that gave up.
      sent = conn.write(send(`GET ${values.path ?? "/"} HTTP/1.0\r\n\r\n`));
    }
    let sendError: unknown;
    const sendDone = sent.catch((err: unknown) => {
      sendError = err;
    });
    try {
      await printReceived(conn, out, values.repr, (chunk) => dump.received(peer, chunk));
      if (input !== undefined) {
        // The server is done: stop reading stdin, as nc does; a failed send no longer matters.
        input.stop();
      } else {
        await sendDone;
        if (sendError !== undefined) throw sendError;
      }
    } catch (err) {
      input?.stop();
      if (signal.aborted) return 0;
      throw err;
    } finally {
      signal.removeEventListener("abort", stop);
      await conn.close();
    }
    if (out.json) {
      out.event("closed", { bytesReceived: conn.bytesRead, bytesSent: conn.bytesWritten }, "");
    }
    return 0;
  },
});

/** Writes every chunk received to stdout, as it is, as a repr line, or as a JSON event. */
async function printReceived(
  conn: StreamConnection,
  out: Output,
  repr: boolean,
  dump: (chunk: Buffer) => void,
): Promise<void> {
  const stdout = out.stdout;
  for await (const chunk of conn) {
    dump(chunk);
    if (out.json) {
      out.event("received", { bytes: chunk.length, data: chunk.toString("base64") }, "");
    } else if (repr) {
      stdout.write(`${bytesRepr(chunk)}\n`);
    } else {
      stdout.write(chunk);
    }
    // Let a slow reader of our stdout slow the socket down instead of filling memory.
    if (stdout.writableNeedDrain) await once(stdout, "drain");
  }
}

/** Copies stdin to the connection with backpressure, then half-closes. */
class StdinPump {
  readonly #conn: StreamConnection;
  readonly #dump: (chunk: Buffer) => Buffer;
  #stopped = false;

  constructor(conn: StreamConnection, dump: (chunk: Buffer) => Buffer) {
    this.#conn = conn;
    this.#dump = dump;
  }

  async run(): Promise<void> {
    const conn = this.#conn;
    let failure: unknown;
    const record = (err: unknown): void => {
      failure ??= err;
    };
    try {
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        if (failure !== undefined) break;
        const written = conn.write(this.#dump(chunk));
        written.catch(record);
        if (conn.socket.writableNeedDrain) await written;
      }
    } catch (err) {
      if (!this.#stopped) throw err;
    }
    if (failure !== undefined) throw failure;
    if (!this.#stopped) await conn.end();
  }

  /** Stops reading stdin, so the process can end while a terminal is still open. */
  stop(): void {
    this.#stopped = true;
    process.stdin.destroy();
  }
}
