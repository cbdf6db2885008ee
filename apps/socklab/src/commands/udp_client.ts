import { setTimeout as sleep } from "node:timers/promises";
import { TimeoutError } from "@socklab/core";
import { createUdpSocket } from "@socklab/udp";
import { defineCommand, UsageError } from "../command.ts";
import {
  countOption,
  durationOption,
  hostOption,
  integer,
  messageOption,
  udpPortOption,
} from "../options.ts";
import { hexdumpOption, trafficDump } from "./_traffic_dump.ts";
import { datagramFields, datagramLine } from "./udp_server.ts";

/** The tutorial's datagram: `'1' * 18`, sent as ASCII. */
const TUTORIAL_MESSAGE = "1".repeat(18);

/** `socklab udp-client`: the tutorial's UDP client (listing 3.5), with replies and a loss report. */
export default defineCommand({
  name: "udp-client",
  summary: "Send UDP datagrams, eighteen 1s by default, and wait for replies (3.3.2)",
  usage: "[options]",
  description: [
    "Sends the tutorial's eighteen 1s to localhost:50000. The socket is connected, so the",
    'kernel\'s "port unreachable" becomes a clear error instead of silent loss; localhost is',
    "tried as ::1, then 127.0.0.1, so the tutorial's IPv4-only Python server is reached too.",
    "With --wait-reply each datagram waits for an answer (sent again --retries times) and a",
    'loss report ends the run: "sent 5, replies 4, lost 1". The exit code is 1 when a',
    "datagram stayed unanswered after its retries, or on any error.",
  ].join("\n"),
  examples: [
    "socklab udp-client",
    "socklab udp-client --message 'Hallo\\n' --count 5 --interval 200ms",
    "socklab udp-client --wait-reply 500ms --retries 2 --count 10",
    "socklab udp-client --host 127.0.0.1 --port 50001 --json",
  ],
  options: {
    host: hostOption,
    port: udpPortOption,
    message: messageOption("eighteen 1s"),
    count: countOption,
    interval: durationOption("interval", "Pause between datagrams", { short: "i", default: "0" }),
    hexdump: hexdumpOption,
    "wait-reply": durationOption(
      "wait-reply",
      "Wait this long for each reply and print it; ends with a loss report",
      { short: "w" },
    ),
    retries: {
      type: "string",
      short: "r",
      valueName: "N",
      default: "0",
      description: "With --wait-reply: send a datagram again this often when no reply comes",
      parse: integer("retries", 0, 100),
    },
  },
  async run({ values, out, signal }) {
    const waitMs = values["wait-reply"];
    if (waitMs === 0) throw new UsageError('Cannot use --wait-reply "0": wait at least 1 ms');
    if (waitMs === undefined && values.retries > 0)
      throw new UsageError("Cannot use --retries without --wait-reply");
    const data = values.message ?? Buffer.from(TUTORIAL_MESSAGE, "ascii");

    const socket = await createUdpSocket({ connect: { host: values.host, port: values.port } });
    const stop = (): void => void socket.close();
    signal.addEventListener("abort", stop, { once: true });
    const dump = trafficDump(values.hexdump, out.stderr, "datagram");
    const peer = `udp://${socket.remote ?? ""}`;
    let sent = 0;
    let replies = 0;
    let unanswered = 0;
    try {
      for (let i = 0; i < values.count && !signal.aborted; i++) {
        if (i > 0 && values.interval > 0) await sleep(values.interval, undefined, { signal });
        dump.sent(peer, data);
        if (waitMs === undefined) {
          await socket.send(data);
          sent += 1;
          out.event(
            "sent",
            { to: socket.remote, localPort: socket.port, bytes: data.length },
            () =>
              `sent ${data.length} bytes to ${out.style.cyan(socket.remote ?? "")} (from port ${socket.port})`,
          );
          continue;
        }
        try {
          const { reply, attempts } = await socket.request(data, undefined, {
            timeoutMs: waitMs,
            retries: values.retries,
            signal,
          });
          sent += attempts;
          replies += 1;
          dump.received(peer, reply.data);
          out.event("reply", { ...datagramFields(reply), attempts }, () => {
            const line = datagramLine(reply, out, "reply from");
            return attempts > 1 ? `${line} (after ${attempts} attempts)` : line;
          });
        } catch (err) {
          if (!(err instanceof TimeoutError)) throw err;
          sent += values.retries + 1;
          unanswered += 1;
          out.event("timeout", { to: socket.remote, attempts: values.retries + 1 }, () =>
            out.style.yellow(err.message),
          );
        }
      }
    } catch (err) {
      // Stopped by SIGINT/SIGTERM: whatever the closed socket or the aborted wait threw, that is a normal stop.
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener("abort", stop);
      await socket.close();
    }
    if (waitMs !== undefined) {
      out.event(
        "summary",
        { sent, replies, lost: sent - replies, unanswered },
        `sent ${sent}, replies ${replies}, lost ${sent - replies}`,
      );
    }
    return unanswered > 0 ? 1 : 0;
  },
});
