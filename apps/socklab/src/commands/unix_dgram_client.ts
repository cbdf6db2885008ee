import { ClosedError, TimeoutError } from "@socklab/core";
import { openUnixDgram, type UnixDgramSocket } from "@socklab/unix-dgram";
import { defineCommand, UsageError } from "../command.ts";
import { countOption, durationOption, messageOption, pathOption } from "../options.ts";
import { hexdumpOption, trafficDump } from "./_traffic_dump.ts";
import { datagramFields, datagramLine } from "./unix_dgram_server.ts";

/** The tutorial's path (listing 3.11). */
const TUTORIAL_PATH = "/tmp/unixsocket_udp";

/** The tutorial's datagram. */
const TUTORIAL_MESSAGE = "Hallo Welt!";

/** `socklab unix-dgram-client`: the tutorial's listing 3.11, with replies. */
export default defineCommand({
  name: "unix-dgram-client",
  summary: 'Send "Hallo Welt!" as a UNIX datagram and wait for replies (3.3.6)',
  usage: "[options]",
  description: [
    'Sends "Hallo Welt!" to /tmp/unixsocket_udp, as listing 3.11 does. Like the',
    "tutorial's client it is unbound, so nobody can answer it; --bind auto binds a private",
    "temp path (removed at exit) and --wait-reply waits for an answer to each datagram.",
    "When the server's queue is full the client waits (backpressure) instead of losing",
    "datagrams. Errors are named: no such socket, nobody bound (a stale file), permission",
    "denied, message too long.",
  ].join("\n"),
  examples: [
    "socklab unix-dgram-client",
    "socklab unix-dgram-client --message 'Hallo\\n' --count 3",
    "socklab unix-dgram-client --bind auto --wait-reply 500ms",
    "socklab unix-dgram-client --path /tmp/echo.sock --json --wait-reply 1s",
  ],
  options: {
    path: {
      ...pathOption(TUTORIAL_PATH),
      description: "The server's UNIX socket path, or @name for a Linux abstract socket",
    },
    message: messageOption('"Hallo Welt!"'),
    count: countOption,
    bind: {
      type: "string",
      short: "b",
      valueName: "auto|PATH",
      description: "Bind a path so the server can reply: auto (a private temp path) or a path",
    },
    hexdump: hexdumpOption,
    "wait-reply": durationOption(
      "wait-reply",
      "Wait this long for a reply to each datagram and print it (binds auto if needed)",
      { short: "w" },
    ),
  },
  async run({ values, out, signal }) {
    const waitMs = values["wait-reply"];
    if (waitMs === 0) throw new UsageError('Cannot use --wait-reply "0": wait at least 1 ms');
    const { path, abstract } = values.path;
    const target = abstract ? `@${path}` : path;
    if (path === "") throw new UsageError("Cannot use --path: give a socket path");
    let bind = values.bind;
    if (bind === "") throw new UsageError("Cannot use --bind: give auto or a socket path");
    if (waitMs !== undefined) bind ??= "auto";
    const data = values.message ?? Buffer.from(TUTORIAL_MESSAGE);

    // Connected: the kernel wakes us when the server's queue has room again.
    const socket = await openUnixDgram({
      ...(bind === undefined ? {} : { bind }),
      connect: abstract ? `@${path}` : path,
    });
    const stop = (): void => void socket.close();
    signal.addEventListener("abort", stop, { once: true });
    if (socket.path !== undefined) {
      out.event(
        "bound",
        { path: socket.path },
        `bound to ${out.style.cyan(socket.path)} (replies come here)`,
      );
    }
    const dump = trafficDump(values.hexdump, out.stderr, "datagram");
    const peer = `unixgram://${target}`;
    let sent = 0;
    let replies = 0;
    try {
      for (let i = 0; i < values.count && !signal.aborted; i++) {
        dump.sent(peer, data);
        await socket.send(data);
        sent += 1;
        out.event(
          "sent",
          { to: target, bytes: data.length },
          () => `sent ${data.length} bytes to ${out.style.cyan(target)}`,
        );
        if (waitMs === undefined) continue;
        let reply: Awaited<ReturnType<UnixDgramSocket["receive"]>>;
        try {
          reply = await socket.receive({ timeoutMs: waitMs, signal });
        } catch (err) {
          if (err instanceof TimeoutError) {
            throw new TimeoutError(
              `Cannot get a reply from "${target}": nothing arrived within ${waitMs} ms`,
              waitMs,
            );
          }
          throw err;
        }
        replies += 1;
        dump.received(peer, reply.data);
        out.event("reply", datagramFields(reply), () => datagramLine(reply, out, "reply from"));
      }
    } catch (err) {
      // Stopped by SIGINT/SIGTERM: the closed socket or the aborted wait end the loop.
      if (!signal.aborted || !(err instanceof ClosedError || err === signal.reason)) throw err;
    } finally {
      signal.removeEventListener("abort", stop);
      await socket.close();
    }
    if (waitMs !== undefined) {
      out.event("summary", { sent, replies }, `sent ${sent}, replies ${replies}`);
    }
    return 0;
  },
});
