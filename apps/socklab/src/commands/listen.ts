import type { IpAddress, SocketAddress, StreamConnection } from "@socklab/core";
import { chat, Multiplexer } from "@socklab/multiplex";
import { bindDatagram, listenStream } from "@socklab/relay";
import { type CommandContext, defineCommand, UsageError } from "../command.ts";
import type { Output } from "../output.ts";
import { logMultiplexer } from "./_mux_log.ts";
import {
  addressArguments,
  checkStdioValues,
  datagramSession,
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
  "keep-open": {
    type: "boolean",
    short: "k",
    description: "Serve one client after another instead of stopping after the first",
  },
  broker: {
    type: "boolean",
    description:
      "Serve every client at once, relaying what each sends to all others (ncat --broker; stdin and stdout unused)",
  },
} as const;

/** `socklab listen`: nc -l on every transport. */
export default defineCommand({
  name: "listen",
  summary: "Listen on any address and connect a client to stdin and stdout, like nc -l",
  maxPositionals: 2,
  usage: "[options] <address> | [host] <port>",
  description: [
    "Listens on the address, takes one client and copies stdin to it and what it sends to",
    "stdout, bytes untouched; ends when both directions have ended. -k serves one client",
    "after another (clients that come meanwhile wait their turn). Addresses as for connect;",
    "a lone PORT listens on localhost (::1 and 127.0.0.1).",
    "",
    "On a datagram address every datagram's payload goes to stdout, and each read of",
    "stdin is sent as one datagram to the latest sender; it runs until stopped.",
    "The ready line (listening on …) and events go to stderr, so stdout is the peer's bytes.",
  ].join("\n"),
  examples: [
    "socklab listen 50000 > received.bin",
    "socklab listen -k unix:///tmp/s < greeting.txt",
    "socklab listen -x udp://127.0.0.1:50000",
    "socklab listen --send-only tcp://[::]:8080 < file.bin",
    "socklab listen --broker tcp://127.0.0.1:50000",
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
  const address = addressArguments(positionals, values.udp, "localhost");
  const log = eventOutput(out);
  const tls = tlsSettings(values, log, { listen: address });
  if (address.transport === "udp" || address.transport === "unixgram") {
    if (values["keep-open"]) {
      throw new UsageError(
        "Cannot use --keep-open on a datagram address: it always keeps listening",
      );
    }
    if (values.broker) {
      throw new UsageError("Cannot use --broker on a datagram address: it relays stream clients");
    }
    const end = await bindDatagram(address);
    log.listening(end.name.split(", "));
    await datagramSession(end, "last-sender", values, log, signal, 0);
    return 0;
  }

  if (values.broker) return broker(address, log, signal);
  const keepOpen = values["keep-open"];
  let turn: Promise<void> = Promise.resolve();
  let failure: unknown;
  let finished!: () => void;
  const firstDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const serve = async (conn: StreamConnection, stop: AbortSignal): Promise<void> => {
    const peer = peerName(conn, address);
    log.event("connection", { remote: peer }, `connection from ${peer}`);
    try {
      const counts = await streamSession(conn, peer, values, out.stderr, stop);
      log.event(
        "closed",
        { remote: peer, bytesSent: counts.aToB, bytesReceived: counts.bToA },
        `closed ${peer}: ${counts.aToB} bytes sent, ${counts.bToA} received`,
      );
    } catch (err) {
      if (!keepOpen) failure = err;
      else log.note(`socklab listen: ${(err as Error).message}`);
    } finally {
      if (!keepOpen) finished();
    }
  };
  const listener = await listenStream(
    address,
    (conn, { signal: closing }) => {
      // One client at a time: the next one waits (its bytes stay in the socket) until this one is done.
      const mine = turn.then(() => serve(conn, closing));
      turn = mine;
      return mine;
    },
    { ...(keepOpen ? {} : { maxConnections: 1 }), ...tls },
  );
  log.listening(listener.addresses);
  const stopped = new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  await Promise.race([keepOpen ? stopped : firstDone, stopped]);
  await listener.close({ graceMs: 0 });
  if (failure !== undefined) throw failure;
  return 0;
}

/** `--broker`: multiplex's raw-bytes broker on the address, until stopped. */
async function broker(address: SocketAddress, log: Output, signal: AbortSignal): Promise<number> {
  const mux = new Multiplexer(chat({ names: false }));
  logMultiplexer(mux, log);
  try {
    const addresses =
      address.transport === "unix"
        ? [await mux.listenUnix({ path: address.path, abstract: address.abstract })]
        : await mux.listenTcp({
            host: (address as IpAddress).host,
            port: (address as IpAddress).port,
          });
    log.listening(addresses);
  } catch (err) {
    await mux.close({ graceMs: 0 });
    throw err;
  }
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  await mux.close({ graceMs: 1000 });
  return 0;
}
