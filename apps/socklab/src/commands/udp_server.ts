import { displayLine, formatHostPort, isValidUtf8 } from "@socklab/core";
import { createUdpSocket, type UdpDatagram } from "@socklab/udp";
import { defineCommand } from "../command.ts";
import { hostOption, udpPortOption } from "../options.ts";
import type { Output } from "../output.ts";
import { hexdumpOption, trafficDump } from "./_traffic_dump.ts";

/**
 * The line for one datagram: `datagram from 127.0.0.1:40390 (18 bytes): 111111111111111111`.
 *
 * @param datagram The datagram.
 * @param out For colours.
 * @param verb What the line starts with (`reply from` for a client).
 * @returns The line.
 * @example
 * ```ts
 * import { Output } from "../output.ts";
 * const datagram = { data: Buffer.from("1".repeat(18)), from: { host: "127.0.0.1", port: 40390, family: 4 as const }, local: "udp://127.0.0.1:50000" };
 * datagramLine(datagram, new Output()); // "datagram from 127.0.0.1:40390 (18 bytes): 111111111111111111"
 * ```
 */
export function datagramLine(datagram: UdpDatagram, out: Output, verb = "datagram from"): string {
  const from = out.style.cyan(formatHostPort(datagram.from.host, datagram.from.port));
  const size = datagram.data.length;
  if (size === 0) return `${verb} ${from} (0 bytes)`;
  return `${verb} ${from} (${size} ${size === 1 ? "byte" : "bytes"}): ${displayLine(datagram.data)}`;
}

/**
 * The JSON fields for one datagram: sender, size, and the payload as `text`
 * when it is valid UTF-8, else as `base64`.
 *
 * @param datagram The datagram.
 * @returns The fields.
 * @example
 * ```ts
 * const datagram = { data: Buffer.from([0xff]), from: { host: "::1", port: 40390, family: 6 as const }, local: "udp://[::1]:50000" };
 * datagramFields(datagram); // { from: "[::1]:40390", host: "::1", port: 40390, family: 6, local: "udp://[::1]:50000", bytes: 1, base64: "/w==" }
 * ```
 */
export function datagramFields(datagram: UdpDatagram): Record<string, unknown> {
  const { data, from } = datagram;
  return {
    from: formatHostPort(from.host, from.port),
    host: from.host,
    port: from.port,
    family: from.family,
    local: datagram.local,
    bytes: data.length,
    ...(isValidUtf8(data) ? { text: data.toString("utf8") } : { base64: data.toString("base64") }),
  };
}

const NO_FIELDS: Record<string, unknown> = Object.freeze({});

/** `socklab udp-server`: the tutorial's UDP server (listing 3.4), hardened. */
export default defineCommand({
  name: "udp-server",
  summary: "Print each UDP datagram with its sender, optionally echo it (3.3.1)",
  usage: "[options]",
  description: [
    "Binds localhost:50000 (both ::1 and 127.0.0.1, one port) and prints every datagram with",
    "its sender's address and port: the text when it is UTF-8, else a Python bytes literal.",
    "Unlike the tutorial's recvfrom(256) nothing is cut: a datagram of up to 65,527 bytes",
    "arrives whole. Losses are counted and reported when the server stops: datagrams printing",
    "could not keep up with, and (on Linux) the ones the system dropped before the server",
    "could read them, its receive buffer full. --once stops after one datagram, as the",
    "tutorial does.",
  ].join("\n"),
  examples: [
    "socklab udp-server",
    "socklab udp-server --once",
    "socklab udp-server --echo --port 0",
    "socklab udp-server --host '' --json",
  ],
  options: {
    host: hostOption,
    port: udpPortOption,
    echo: { type: "boolean", short: "e", description: "Send each datagram back to its sender" },
    hexdump: hexdumpOption,
    once: {
      type: "boolean",
      description: "Stop after the first datagram, as the tutorial's server does",
    },
  },
  async run({ values, out, signal }) {
    const socket = await createUdpSocket({ host: values.host, port: values.port });
    const stop = (): void => void socket.close();
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) stop();
    out.listening(socket.local);
    const onEchoFailure = (err: unknown): void => {
      if (!socket.closed)
        out.note(`socklab udp-server: ${err instanceof Error ? err.message : String(err)}`);
    };
    const show = out.json || !out.quiet;
    const print = (datagram: UdpDatagram): void => {
      // The JSON fields only when printing JSON: this runs for every datagram.
      const fields = out.json ? datagramFields(datagram) : NO_FIELDS;
      out.event("datagram", fields, () => datagramLine(datagram, out));
    };
    const dump = trafficDump(values.hexdump, out.stderr, "datagram");
    const peer = (datagram: UdpDatagram): string =>
      `udp://${formatHostPort(datagram.from.host, datagram.from.port)}`;
    try {
      if (values.once) {
        // The tutorial's server: one datagram, then stop.
        for await (const datagram of socket) {
          dump.received(peer(datagram), datagram.data);
          if (show) print(datagram);
          if (values.echo) {
            dump.sent(peer(datagram), datagram.data);
            await socket.reply(datagram, datagram.data).catch(onEchoFailure);
          }
          break;
        }
      } else {
        // Serving until stopped: each datagram handled as it arrives, no promise per datagram.
        const echo = values.echo;
        socket.onDatagram((datagram) => {
          if (dump.enabled) dump.received(peer(datagram), datagram.data);
          if (show) print(datagram);
          if (echo) {
            if (dump.enabled) dump.sent(peer(datagram), datagram.data);
            socket.replyNow(datagram, datagram.data);
          }
        }, onEchoFailure);
        if (!signal.aborted) {
          await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        }
      }
    } finally {
      signal.removeEventListener("abort", stop);
      await socket.close();
    }
    const { datagramsReceived, bytesReceived, dropped, kernelDropped } = socket.stats;
    if (dropped > 0) {
      out.note(
        `socklab udp-server: dropped ${dropped} of ${datagramsReceived} datagrams: printing could not keep up (try --quiet or --json)`,
      );
    }
    const lost = kernelDropped ?? 0;
    if (lost > 0) {
      out.note(
        `socklab udp-server: the system dropped ${lost} of ${datagramsReceived + lost} datagrams before the server could read them (its receive buffer was full)`,
      );
    }
    out.event(
      "stopped",
      {
        datagrams: datagramsReceived,
        bytes: bytesReceived,
        dropped,
        ...(kernelDropped === undefined ? {} : { kernelDropped }),
      },
      `stopped after ${datagramsReceived} ${datagramsReceived === 1 ? "datagram" : "datagrams"} (${bytesReceived} bytes)${lost > 0 ? `; ${lost} more dropped by the system` : ""}`,
    );
    return 0;
  },
});
