import {
  ClosedError,
  displayBytes,
  isUserFacingError,
  isValidUtf8,
  type StreamConnection,
} from "@socklab/core";
import { listenUnix, parseFileMode, type UnixPath } from "@socklab/unix-stream";
import { defineCommand } from "../command.ts";
import { durationOption, integer, pathOption } from "../options.ts";
import type { Output } from "../output.ts";
import { hexdumpOption, type TrafficDump, trafficDump } from "./_traffic_dump.ts";

/** The tutorial's path (listing 3.6). */
const TUTORIAL_PATH = "/tmp/unixsocket_tcp";

/**
 * Where an incomplete UTF-8 character starts at the end of `bytes` (its other
 * bytes are still on the way), or `bytes.length`: a character cut between two
 * chunks is shown whole with the next chunk instead of as two byte literals.
 */
function incompleteTail(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const byte = bytes[n - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Shows one piece of what a connection sent: text as it is (without a final newline), or `b'...'`. */
function showPiece(out: Output, id: number, piece: Buffer): void {
  if (piece.length === 0) return;
  if (out.json) {
    const valid = isValidUtf8(piece);
    out.event(
      "data",
      {
        id,
        bytes: piece.length,
        [valid ? "text" : "base64"]: piece.toString(valid ? "utf8" : "base64"),
      },
      "",
    );
  } else {
    out.event("data", {}, () => displayBytes(piece).replace(/\r?\n$/, ""));
  }
}

/**
 * Reads a connection to its end, printing what it sends (and echoing it with
 * `echo`). Printing is skipped entirely with `--quiet`, so an echo server does
 * no work per chunk but the write.
 */
async function serveConnection(
  conn: StreamConnection,
  id: number,
  out: Output,
  echo: boolean,
  dump: TrafficDump,
  peer: string,
): Promise<void> {
  const show = !out.quiet || out.json;
  let held: Buffer | undefined;
  try {
    for await (const chunk of conn) {
      if (dump.enabled) dump.received(peer, chunk);
      if (show) {
        const piece = held === undefined ? chunk : Buffer.concat([held, chunk]);
        const cut = incompleteTail(piece);
        held = cut === piece.length ? undefined : Buffer.from(piece.subarray(cut));
        showPiece(out, id, piece.subarray(0, cut));
      }
      if (echo) {
        if (dump.enabled) dump.sent(peer, chunk);
        await conn.write(chunk);
      }
    }
  } finally {
    dump.forget(peer);
    if (held !== undefined) showPiece(out, id, held);
  }
}

/** `socklab unix-stream-server`: the tutorial's listing 3.6, safe against stale socket files. */
export default defineCommand({
  name: "unix-stream-server",
  summary: "Serve on a UNIX stream socket file, safe against stale files (3.3.3)",
  usage: "[options]",
  description: [
    "Listens on a UNIX stream socket (listing 3.6) and prints what each client sends:",
    "text as it is, anything else as a Python bytes literal. A socket file left by a",
    "crashed server is removed; a socket a running server uses, or a file that is not",
    "a socket, is refused and left alone. The socket file is created with --mode",
    "(owner only by default) and removed when the server stops (Ctrl-C, SIGTERM).",
    "--path @name listens on a Linux abstract name: no file, and no mode either:",
    "anyone on this machine (in this network namespace) can connect.",
  ].join("\n"),
  examples: [
    "socklab unix-stream-server",
    "socklab unix-stream-server --path /tmp/echo.sock --echo",
    "socklab unix-stream-server --path @socklab --once",
    "socklab unix-stream-server --mode 660 --max-connections 10",
  ],
  options: {
    path: pathOption(TUTORIAL_PATH),
    echo: { type: "boolean", short: "e", description: "Send every byte back to its client" },
    mode: {
      type: "string",
      short: "m",
      valueName: "MODE",
      default: "600",
      description: "Socket file permissions in octal (600: owner only, 660: owner and group)",
      parse: (value: string) => parseFileMode(value),
    },
    once: { type: "boolean", description: "Stop after the first connection, as listing 3.6" },
    "max-connections": {
      type: "string",
      valueName: "N",
      description: "Serve at most N clients at once; refuse (close) the others",
      parse: integer("max-connections", 1),
    },
    hexdump: hexdumpOption,
    "idle-timeout": durationOption(
      "idle-timeout",
      "Close a connection that stays silent this long (default: never)",
    ),
  },
  async run({ values, out, signal }) {
    const dump = trafficDump(values.hexdump, out.stderr, "stream");
    const target: UnixPath = values.path;
    const once = values.once;
    const echo = values.echo;
    let nextId = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });

    const server = await listenUnix({
      path: target.path,
      abstract: target.abstract,
      mode: values.mode,
      ...(values["max-connections"] === undefined
        ? {}
        : { maxConnections: values["max-connections"] }),
      ...(once ? { maxConnections: 1 } : {}),
      // A refused client gets a plain end of stream (FIN), not a reset.
      onRefused: () => "",
      ...(values["idle-timeout"] === undefined ? {} : { idleTimeoutMs: values["idle-timeout"] }),
      onError: (err) =>
        out.note(
          `socklab unix-stream-server: ${isUserFacingError(err) ? err.message : String(err)}`,
        ),
      handler: async (conn, context) => {
        const id = ++nextId;
        const where = conn.local;
        out.event("connection", { id, path: where }, `connection on ${where}`);
        // Stopping: finish the connection with a FIN rather than cut it.
        const stop = (): void => void conn.close();
        context.signal.addEventListener("abort", stop, { once: true });
        let reason: string | undefined;
        try {
          await serveConnection(conn, id, out, echo, dump, `unix://${where} #${id}`);
        } catch (err) {
          // Our own close (stopping) ends the read with a ClosedError: not worth a word.
          if (!(err instanceof ClosedError)) {
            reason = isUserFacingError(err) ? err.message : String(err);
          }
        } finally {
          context.signal.removeEventListener("abort", stop);
          const bytes = conn.bytesRead;
          out.event(
            "closed",
            { id, bytes, ...(reason === undefined ? {} : { reason }) },
            `closed (${bytes} bytes)${reason === undefined ? "" : `: ${reason}`}`,
          );
          if (once) done();
        }
      },
    });
    const label = server.label;
    if (server.removedStale) {
      if (out.json) out.event("removed-stale", { path: label }, "");
      else out.note(`removed stale socket file ${label}`);
    }
    server.server.on("refused", () => {
      out.event(
        "refused",
        { path: label, limit: once ? 1 : values["max-connections"] },
        `refused a connection on ${label}: ${server.stats.active} open, the limit is ${once ? 1 : values["max-connections"]}`,
      );
    });
    out.listening([server.address]);

    const onAbort = (): void => done();
    if (signal.aborted) done(); // a signal that came while binding
    signal.addEventListener("abort", onAbort, { once: true });
    await finished;
    signal.removeEventListener("abort", onAbort);
    await server.close({ graceMs: 2000 });
    return 0;
  },
});
