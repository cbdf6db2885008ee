import type { IpAddress, SocketAddress, StreamConnection } from "@socklab/core";
import { chat, Multiplexer } from "@socklab/multiplex";
import {
  bindDatagram,
  connectionEnd,
  copyToProcess,
  describeExit,
  listenStream,
} from "@socklab/relay";
import { type CommandContext, defineCommand, UsageError } from "../command.ts";
import type { Output } from "../output.ts";
import { EXEC_OPTIONS, execTarget } from "./_exec_options.ts";
import { logMultiplexer } from "./_mux_log.ts";
import {
  addressArguments,
  checkStdioValues,
  datagramSession,
  dumper,
  eventOutput,
  peerName,
  releaseStdin,
  STDIO_OPTIONS,
  type StdioValues,
  streamSession,
} from "./_stdio_session.ts";
import { TLS_OPTIONS, tlsSettings } from "./_tls_options.ts";

const options = {
  ...STDIO_OPTIONS,
  ...TLS_OPTIONS,
  ...EXEC_OPTIONS,
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
    "",
    "--exec CMD gives the client its own process instead (ncat -e, socat EXEC:): the socket",
    "is its stdin and stdout, its stderr is ours. CMD is split into words as a shell would,",
    "but runs without a shell; --sh-exec CMD runs /bin/sh -c CMD. The client's end of stream",
    "closes the program's stdin, the program's end of output half-closes the client; the",
    "program is killed (SIGTERM, SIGKILL 2s later) when the client goes away. Its pid and",
    "exit are logged. With -k each client gets its own process, one client after another.",
    "Streams only.",
  ].join("\n"),
  examples: [
    "socklab listen 50000 > received.bin",
    "socklab listen -k unix:///tmp/s < greeting.txt",
    "socklab listen -x udp://127.0.0.1:50000",
    "socklab listen --send-only tcp://[::]:8080 < file.bin",
    "socklab listen --broker tcp://127.0.0.1:50000",
    "socklab listen -k --exec 'tr a-z A-Z' tcp://127.0.0.1:50000",
    "socklab listen --sh-exec 'date; uptime' 50000",
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
  const exec = execTarget(values);
  if (exec !== undefined) checkExecValues(values, address);
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
    if (exec !== undefined) return execSession(conn, peer);
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
  const execSession = async (conn: StreamConnection, peer: string): Promise<void> => {
    const dump = dumper(values, out.stderr);
    try {
      const run = await copyToProcess(connectionEnd(conn, peer), exec!.exec, {
        name: exec!.name!,
        ...(dump === undefined
          ? {}
          : {
              onChunk: (direction, chunk, offset) =>
                dump(direction === "aToB" ? "received" : "sent", peer, chunk, offset),
            }),
      });
      const pid = run.process.pid;
      log.event(
        "connection",
        { remote: peer, pid, exec: exec!.name },
        `connection from ${peer}: pid ${pid} (${exec!.name})`,
      );
      const stopRun = (): void => run.copy.stop();
      signal.addEventListener("abort", stopRun, { once: true });
      const { counts, exit, error } = await run.done;
      signal.removeEventListener("abort", stopRun);
      log.event(
        "closed",
        {
          remote: peer,
          pid,
          bytesSent: counts.bToA,
          bytesReceived: counts.aToB,
          exitCode: exit.code,
          signal: exit.signal,
          ...(error === undefined ? {} : { error: error.message }),
        },
        `closed ${peer}: ${counts.bToA} bytes sent, ${counts.aToB} received; pid ${pid} ${describeExit(exit)}${error === undefined ? "" : ` (${error.message})`}`,
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

/** Refuses what does not go with `--exec`: stdin and stdout options, datagrams, `--broker`. */
function checkExecValues(
  values: StdioValues & { broker: boolean; exec: unknown },
  address: SocketAddress,
): void {
  const option = values.exec === undefined ? "--sh-exec" : "--exec";
  if (address.transport === "udp" || address.transport === "unixgram") {
    throw new UsageError(
      `Cannot use ${option} on a datagram address: a program is given to each stream client`,
    );
  }
  if (values.broker) {
    throw new UsageError(
      `Cannot use ${option} with --broker: the broker relays clients to each other`,
    );
  }
  for (const name of ["recv-only", "send-only", "no-shutdown"] as const) {
    if (values[name]) {
      throw new UsageError(`Cannot use --${name} with ${option}: stdin and stdout are not used`);
    }
  }
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
