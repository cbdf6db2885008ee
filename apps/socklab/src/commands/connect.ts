import { formatAddress, isIpAddress } from "@socklab/core";
import { connectStream, openDatagram } from "@socklab/relay";
import { type CommandContext, defineCommand, UsageError } from "../command.ts";
import {
  addressArguments,
  checkStdioValues,
  datagramSession,
  durationOption,
  eventOutput,
  peerName,
  releaseStdin,
  STDIO_OPTIONS,
  streamSession,
} from "./_stdio_session.ts";
import { TLS_OPTIONS, tlsSettings } from "./_tls_options.ts";

const options = {
  ...STDIO_OPTIONS,
  ...TLS_OPTIONS,
  timeout: {
    type: "string",
    short: "w",
    valueName: "DURATION",
    default: "10",
    description:
      "Give up connecting after this long (seconds, or 500ms, 2s, 1m; 0: the system's limit)",
    parse: durationOption("timeout"),
  },
  linger: {
    type: "string",
    valueName: "DURATION",
    default: "0.5",
    description: "Datagrams: after the end of stdin, wait this long for answers",
    parse: durationOption("linger"),
  },
} as const;

/** `socklab connect`: nc's client on every transport. */
export default defineCommand({
  name: "connect",
  summary: "Connect stdin and stdout to any address, like nc: tcp, udp, unix, unixgram",
  maxPositionals: 2,
  usage: "[options] <address> | <host> <port>",
  description: [
    "Connects to the address and copies stdin to the peer and what arrives to stdout,",
    "bytes untouched. Addresses: tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT, unix:///PATH,",
    "unixgram:///PATH, a path or @name (UNIX stream), HOST:PORT or HOST PORT (TCP; UDP with -u).",
    "",
    "Streams: the end of stdin half-closes the connection (a FIN) unless --no-shutdown;",
    "the command ends when both directions have ended. Datagrams: each read of stdin is",
    "one datagram; after the end of stdin, answers are awaited for --linger.",
    "Events (connected, closed with byte counts) go to stderr, so stdout is the peer's bytes.",
  ].join("\n"),
  examples: [
    "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | socklab connect localhost 50000",
    "socklab connect unix:///tmp/unixsocket_tcp < request.bin > answer.bin",
    "echo 1111 | socklab connect -x udp://127.0.0.1:50000",
    "socklab connect --recv-only tcp://[::1]:8080 > dump.bin",
    "socklab connect --ca ca.pem tls://localhost:4433",
  ],
  options,
  async run(context) {
    try {
      return await run(context);
    } finally {
      releaseStdin();
    }
  },
});

async function run({
  values,
  positionals,
  out,
  signal,
}: CommandContext<typeof options>): Promise<number> {
  checkStdioValues(values);
  const address = addressArguments(positionals, values.udp, undefined);
  if (isIpAddress(address) && address.port === 0) {
    throw new UsageError(
      `Cannot connect to "${formatAddress(address)}": port 0 is no server's port`,
    );
  }
  const log = eventOutput(out);
  const tls = tlsSettings(values, log, { connect: address });
  if (address.transport === "udp" || address.transport === "unixgram") {
    const end = await openDatagram(address);
    log.event("connected", { remote: end.name }, `connected to ${end.name}`);
    await datagramSession(end, "peer", values, log, signal, values.linger);
    return 0;
  }
  let conn: Awaited<ReturnType<typeof connectStream>>;
  try {
    conn = await connectStream(address, { timeoutMs: values.timeout, signal, ...tls });
  } catch (err) {
    if (signal.aborted) return 0;
    throw err;
  }
  const peer = peerName(conn, address);
  log.event("connected", { remote: peer, local: conn.local }, `connected to ${peer}`);
  const counts = await streamSession(conn, peer, values, out.stderr, signal);
  log.event(
    "closed",
    { remote: peer, bytesSent: counts.aToB, bytesReceived: counts.bToA },
    `closed ${peer}: ${counts.aToB} bytes sent, ${counts.bToA} received`,
  );
  return 0;
}
