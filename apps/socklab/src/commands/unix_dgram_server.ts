import {
  displayLine,
  dropLine,
  formatAddress,
  isUserFacingError,
  isValidUtf8,
  reportDrops,
} from "@socklab/core";
import { bindUnixDgram, UNIX_DGRAM_RECEIVE_BUFFER, type UnixDatagram } from "@socklab/unix-dgram";
import { defineCommand, UsageError } from "../command.ts";
import { pathOption } from "../options.ts";
import type { Output } from "../output.ts";
import { hexdumpOption, trafficDump } from "./_traffic_dump.ts";

/** Echo replies that may wait for receivers that do not read; past it they are dropped and counted. */
const MAX_QUEUED_REPLIES = 64;

/** The tutorial's path (listing 3.10). */
const TUTORIAL_PATH = "/tmp/unixsocket_udp";

/**
 * Reads a file mode in octal: `600`, `0600`, `0o600`.
 *
 * @param value As written.
 * @returns The mode.
 */
export function parseMode(value: string): number {
  const match = /^(?:0o?)?([0-7]{1,3})$/.exec(value.trim());
  if (match === null) {
    throw Object.assign(
      new RangeError(
        `Cannot use --mode "${value}": expected octal permissions such as 600 (owner only) or 660`,
      ),
      { code: "ERR_SOCKLAB_INVALID_OPTION" },
    );
  }
  return Number.parseInt(match[1]!, 8);
}

/**
 * A sender's path as printed: senders choose their paths, so control characters
 * a terminal would act on are shown as `\xNN` inside quotes.
 */
function showPath(path: string): string {
  if (!/[\x00-\x1f\x7f-\x9f]/.test(path)) return path;
  const escaped = path.replace(/[\x00-\x1f\x7f-\x9f"\\]/g, (c) =>
    c === '"' || c === "\\" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  return `"${escaped}"`;
}

/**
 * The line for one datagram: `datagram from /tmp/c.sock (11 bytes): Hallo Welt!`.
 *
 * @param datagram The datagram.
 * @param out For colours.
 * @param verb What the line starts with (`reply from` for the client).
 * @returns The line.
 */
export function datagramLine(datagram: UnixDatagram, out: Output, verb = "datagram from"): string {
  const from =
    datagram.from === undefined ? "an unbound socket" : out.style.cyan(showPath(datagram.from));
  const size = datagram.data.length;
  const cut = datagram.truncated
    ? out.style.yellow(`, cut: the datagram was longer than ${UNIX_DGRAM_RECEIVE_BUFFER} bytes`)
    : "";
  if (size === 0) return `${verb} ${from} (0 bytes)`;
  return `${verb} ${from} (${size} ${size === 1 ? "byte" : "bytes"}${cut}): ${displayLine(datagram.data)}`;
}

/**
 * The JSON fields for one datagram: sender path (`null` if unbound), size,
 * `truncated`, and the payload as `text` when valid UTF-8, else `base64`.
 *
 * @param datagram The datagram.
 * @returns The fields.
 */
export function datagramFields(datagram: UnixDatagram): Record<string, unknown> {
  const { data } = datagram;
  return {
    from: datagram.from ?? null,
    bytes: data.length,
    truncated: datagram.truncated,
    ...(isValidUtf8(data) ? { text: data.toString("utf8") } : { base64: data.toString("base64") }),
  };
}

/** `socklab unix-dgram-server`: the tutorial's listing 3.10, hardened. */
export default defineCommand({
  name: "unix-dgram-server",
  summary: "Print each UNIX datagram with its sender path, optionally echo it (3.3.5)",
  usage: "[options]",
  description: [
    "Binds a UNIX datagram socket (listing 3.10) and prints every datagram with the path",
    "its sender bound (an unbound sender, like listing 3.11, has none and cannot get",
    "replies). A socket file left by a crashed program is removed; a path a running",
    "program is bound to, or a file that is not a socket, is refused and left alone. The",
    "file gets --mode (owner only by default) and is removed when the server stops.",
    `A datagram longer than the ${UNIX_DGRAM_RECEIVE_BUFFER}-byte receive buffer arrives cut: it is`,
    "flagged, never echoed. --path @name binds a Linux abstract name (no file).",
  ].join("\n"),
  examples: [
    "socklab unix-dgram-server",
    "socklab unix-dgram-server --once",
    "socklab unix-dgram-server --path /tmp/echo.sock --echo",
    "socklab unix-dgram-server --mode 660 --json",
  ],
  options: {
    path: {
      ...pathOption(TUTORIAL_PATH),
      description: "UNIX socket path, or @name for a Linux abstract socket",
    },
    echo: {
      type: "boolean",
      short: "e",
      description: "Send each datagram back to its sender (bound senders only)",
    },
    once: {
      type: "boolean",
      description: "Stop after the first datagram, as the tutorial's server does",
    },
    mode: {
      type: "string",
      short: "m",
      valueName: "MODE",
      default: "600",
      description: "Socket file permissions in octal (600: owner only, 666: everyone may send)",
      parse: parseMode,
    },
    hexdump: hexdumpOption,
  },
  async run({ values, out, signal }) {
    const { path, abstract } = values.path;
    if (path === "") throw new UsageError("Cannot use --path: give a socket path");
    const socket = await bindUnixDgram({
      path,
      abstract,
      mode: values.mode,
      maxQueuedReplies: MAX_QUEUED_REPLIES,
    });
    const stop = (): void => void socket.close();
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) stop();
    if (socket.removedStale) {
      if (out.json) out.event("removed-stale", { path }, "");
      else out.note(`removed stale socket file ${path}`);
    }
    out.listening([formatAddress({ transport: "unixgram", path, abstract })]);

    const show = out.json || !out.quiet;
    let datagrams = 0;
    let bytes = 0;
    let toldUnbound = false;
    const onEchoFailure = (err: unknown): void => {
      if (!socket.closed) {
        out.note(
          `socklab unix-dgram-server: ${isUserFacingError(err) ? err.message : String(err)}`,
        );
      }
    };
    // A reply that cannot be sent now waits in a bounded queue or is dropped: one summary line per second.
    const stopDropReports = values.echo
      ? reportDrops(
          () => socket.replyStats,
          (growth, totals) => {
            const line = dropLine(growth, MAX_QUEUED_REPLIES, socket.lastReplyError, totals);
            if (out.json) {
              out.event(
                "dropped",
                { ...growth, totalDropped: totals.dropped, totalFailed: totals.failed, line },
                "",
              );
            } else out.note(`socklab unix-dgram-server: ${line}`);
          },
        )
      : undefined;
    /**
     * Prints and echoes one datagram. Serving, the echo never waits (`replyNow`);
     * with `--once` it is awaited, so the one reply is out before the server stops.
     */
    const dump = trafficDump(values.hexdump, out.stderr, "datagram");
    const peer = (datagram: UnixDatagram): string =>
      datagram.from === undefined ? "an unbound socket" : `unixgram://${datagram.from}`;
    const handle = (datagram: UnixDatagram, once = false): Promise<void> | undefined => {
      datagrams += 1;
      bytes += datagram.data.length;
      if (dump.enabled) dump.received(peer(datagram), datagram.data);
      if (show) {
        out.event("datagram", datagramFields(datagram), () => datagramLine(datagram, out));
      }
      if (!values.echo) return undefined;
      if (datagram.from === undefined) {
        if (!toldUnbound) {
          toldUnbound = true;
          out.note(
            "socklab unix-dgram-server: Cannot echo to an unbound sender: it has no path to reply to (a client can bind one: unix-dgram-client --bind auto); further ones are not reported",
          );
        }
        return undefined;
      }
      if (datagram.truncated) {
        out.note(
          `socklab unix-dgram-server: Cannot echo the datagram from "${datagram.from}": it was cut at ${UNIX_DGRAM_RECEIVE_BUFFER} bytes`,
        );
        return undefined;
      }
      if (dump.enabled) dump.sent(peer(datagram), datagram.data);
      if (once) return socket.send(datagram.data, datagram.from).catch(onEchoFailure);
      socket.replyNow(datagram.data, datagram.from);
      return undefined;
    };
    try {
      if (values.once) {
        // The tutorial's server: one datagram, then stop.
        for await (const datagram of socket) {
          await handle(datagram, true);
          break;
        }
      } else {
        // Serving until stopped: each datagram handled as it arrives, no promise per datagram read.
        socket.onDatagram((datagram) => void handle(datagram));
        if (!signal.aborted) {
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      stopDropReports?.();
      await socket.close();
    }
    out.event(
      "stopped",
      { datagrams, bytes },
      `stopped after ${datagrams} ${datagrams === 1 ? "datagram" : "datagrams"} (${bytes} bytes)`,
    );
    return 0;
  },
});
