import { formatTrafficDump, isIpAddress, type SocketAddress } from "@socklab/core";
import { describeExit, type ExecTarget, relayDatagrams, relayStreams } from "@socklab/relay";
import { type CommandContext, defineCommand, UsageError } from "../command.ts";
import { integer } from "../options.ts";
import { EXEC_OPTIONS, execTarget } from "./_exec_options.ts";
import { addressArguments, durationOption } from "./_stdio_session.ts";
import { TLS_OPTIONS, tlsSettings } from "./_tls_options.ts";

const options = {
  ...TLS_OPTIONS,
  ...EXEC_OPTIONS,
  "max-connections": {
    type: "string",
    short: "m",
    valueName: "N",
    description: "Most clients (datagram senders) relayed at once; more are refused",
    parse: integer("max-connections", 1),
  },
  "connect-timeout": {
    type: "string",
    valueName: "DURATION",
    default: "10",
    description: "Give up connecting to the target after this long (seconds, or 500ms, 2s, 1m)",
    parse: durationOption("connect-timeout"),
  },
  "idle-timeout": {
    type: "string",
    valueName: "DURATION",
    default: "60",
    description: "Datagrams: close a sender's session after this long without traffic",
    parse: durationOption("idle-timeout"),
  },
  hexdump: {
    type: "boolean",
    short: "x",
    description: "Dump every chunk or datagram to stderr: > N bytes to the target, < N bytes back",
  },
} as const;

/** `socklab relay`: socat's LISTEN,fork to a second address. */
export default defineCommand({
  name: "relay",
  summary: "Listen on one address and relay each client to another, like socat's fork",
  maxPositionals: 2,
  usage: "[options] <from> <to> | [options] <from> --exec CMD",
  description: [
    "Listens on <from>; for each client opens <to> and copies both ways, bytes untouched,",
    "with backpressure and the half-close passed on in each direction. Streams: tcp:// and",
    "unix:// (a path or @name) in any combination. Datagrams: udp:// and unixgram:// in any",
    "combination, one session (one socket to the target) per sender, closed when idle.",
    "A stream cannot be relayed to datagrams or back. A target that cannot be reached",
    "closes that client with one line; the relay goes on serving the others.",
    "Prints one line per client (or --json events) with the byte counts when it closes.",
    "",
    "--exec CMD in place of <to> gives each client its own process (socat's EXEC:, ncat -e):",
    "the socket is its stdin and stdout, its stderr is ours. CMD is split into words as a",
    "shell would, but runs without a shell; --sh-exec CMD runs /bin/sh -c CMD. The client's",
    "end of stream closes the program's stdin, the program's end of output half-closes the",
    "client; the program is killed (SIGTERM, SIGKILL 2s later) when the client goes away.",
    "Each client's line names the pid and how it exited. Stream addresses only.",
  ].join("\n"),
  examples: [
    "socklab relay tcp://127.0.0.1:8080 unix:///run/app.sock",
    "socklab relay unix:///tmp/front.sock tcp://localhost:50000",
    "socklab relay --idle-timeout 30s udp://[::1]:5353 udp://127.0.0.1:53",
    "socklab relay -x --max-connections 10 tcp://:9000 tcp://example.org:80",
    "socklab relay tcp://127.0.0.1:7000 --exec 'tr a-z A-Z'",
    "socklab relay unix:///tmp/date.sock --sh-exec 'date -u; cat /etc/hostname'",
  ],
  options,
  run,
});

/** One address argument: a URI, a UNIX path or @name, or host:port (TCP). */
function address(text: string): SocketAddress {
  return addressArguments([text], false, undefined);
}

async function run({
  values,
  positionals,
  out,
  signal,
}: CommandContext<typeof options>): Promise<number> {
  const exec = execTarget(values);
  if (exec !== undefined) checkExecArguments(positionals, values.exec === undefined);
  else if (positionals.length < 2) {
    // More than two are refused by the frame (maxPositionals).
    throw new UsageError(
      "Cannot relay without two addresses: give <from> and <to>, such as tcp://:8080 unix:///tmp/s",
    );
  }
  const from = address(positionals[0]!);
  const to: SocketAddress | ExecTarget = exec ?? address(positionals[1]!);
  const streams = (a: SocketAddress | ExecTarget): boolean =>
    "exec" in a || a.transport === "tcp" || a.transport === "tls" || a.transport === "unix";
  if (streams(from) !== streams(to)) {
    throw new UsageError(
      `Cannot relay "${positionals[0]}" to "${positionals[1]}": one is a stream and the other datagrams, which keep no message boundaries in common`,
    );
  }
  if (!("exec" in to) && isIpAddress(to) && to.port === 0) {
    throw new UsageError(`Cannot relay to "${positionals[1]}": port 0 is no server's port`);
  }
  const stderr = out.stderr;
  const dump = values.hexdump;

  if (streams(from)) {
    const relay = await relayStreams(from, to, {
      connectTimeoutMs: values["connect-timeout"],
      ...tlsSettings(values, out, { listen: from, ...("exec" in to ? {} : { connect: to }) }),
      ...(values["max-connections"] === undefined
        ? {}
        : { maxConnections: values["max-connections"] }),
      ...(dump
        ? {
            onChunk: (session, direction, chunk, offset) =>
              stderr.write(
                formatTrafficDump(
                  direction === "aToB" ? "sent" : "received",
                  `${session.target} (client ${session.id})`,
                  chunk,
                  offset,
                ),
              ),
          }
        : {}),
    });
    relay.on("open", (s) =>
      out.event(
        "connection",
        {
          id: s.id,
          client: s.client,
          target: s.target,
          ...(s.pid === undefined ? {} : { pid: s.pid }),
        },
        `connection ${s.id} from ${s.client} to ${s.target}${s.pid === undefined ? "" : `: pid ${s.pid}`}`,
      ),
    );
    relay.on("close", (s, err) =>
      out.event(
        "closed",
        {
          id: s.id,
          client: s.client,
          target: s.target,
          bytesToTarget: s.counts.aToB,
          bytesFromTarget: s.counts.bToA,
          ...(s.exit === undefined
            ? {}
            : { pid: s.pid, exitCode: s.exit.code, signal: s.exit.signal }),
          ...(err === undefined ? {} : { error: err.message }),
        },
        `closed ${s.id} ${s.client}: ${s.counts.aToB} bytes to ${s.target}, ${s.counts.bToA} back${s.exit === undefined ? "" : `; pid ${s.pid} ${describeExit(s.exit)}`}${err === undefined ? "" : ` (${err.message})`}`,
      ),
    );
    relay.on("refused", (label) =>
      out.event(
        "refused",
        { listener: label, maxConnections: values["max-connections"] },
        `refused a client on ${label}: ${values["max-connections"]} connections already (see --max-connections)`,
      ),
    );
    out.listening(relay.addresses);
    await new Promise<void>((resolve) =>
      signal.addEventListener("abort", () => resolve(), { once: true }),
    );
    await relay.close();
    return 0;
  }

  const relay = await relayDatagrams(from, to as SocketAddress, {
    idleTimeoutMs: values["idle-timeout"],
    ...(values["max-connections"] === undefined ? {} : { maxSessions: values["max-connections"] }),
  });
  relay.on("open", (s) =>
    out.event(
      "session",
      { id: s.id, client: s.client ?? null, target: s.target },
      `session ${s.id} from ${s.client ?? "an unbound sender"} to ${s.target}`,
    ),
  );
  relay.on("close", (s, err) =>
    out.event(
      "closed",
      {
        id: s.id,
        client: s.client ?? null,
        ...s.counts,
        ...(err === undefined ? {} : { error: err.message }),
      },
      `closed ${s.id} ${s.client ?? "an unbound sender"}: ${s.counts.datagramsIn} datagrams (${s.counts.bytesIn} bytes) to ${s.target}, ${s.counts.datagramsOut} (${s.counts.bytesOut} bytes) back${err === undefined ? "" : ` (${err.message})`}`,
    ),
  );
  relay.on("dropped", (from, count) => {
    // One line for the first drop and then one per thousand, so a flood does not flood the log.
    if (count === 1 || count % 1000 === 0) {
      out.event(
        "dropped",
        { from: from ?? null, dropped: count },
        `dropped a datagram from ${from ?? "an unbound sender"}: ${values["max-connections"]} sessions already (see --max-connections; ${count} dropped so far)`,
      );
    }
  });
  if (dump) {
    relay.on("datagram", (s, direction, data) =>
      stderr.write(
        formatTrafficDump(
          direction === "in" ? "sent" : "received",
          `${s.target} (session ${s.id})`,
          data,
        ),
      ),
    );
  }
  out.listening(relay.addresses);
  await new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  await relay.close();
  return 0;
}

/** With `--exec`/`--sh-exec` the program takes the place of `<to>`: one stream address, `<from>`. */
function checkExecArguments(positionals: readonly string[], shell: boolean): void {
  const option = shell ? "--sh-exec" : "--exec";
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `Cannot use ${option} without an address to listen on, such as tcp://:8080`
        : `Cannot use "${positionals[1]}" with ${option}: give one address, <from>; the program takes the place of <to>`,
    );
  }
  const from = address(positionals[0]!);
  if (from.transport !== "tcp" && from.transport !== "unix") {
    throw new UsageError(
      `Cannot use ${option} on "${positionals[0]}": it is a datagram address, and a program is given to each stream client`,
    );
  }
}
