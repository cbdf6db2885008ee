/**
 * Entry of the load-client process (the agent). It runs beside the harness, so
 * the load has a core of its own, and takes one task after another: each line
 * on stdin is `{"kind", "config"}`, sent once a server's address is known.
 * Prints protocol lines (see `_report.ts`); when a task fails, one line on
 * stderr and exit code 1.
 *
 * @module
 */
import { createInterface } from "node:readline";
import { emit, type LoadResult } from "./_report.ts";
import { echoRoundTrips } from "./echo_round_trips.ts";
import { heldConnections } from "./held_connections.ts";
import { httpAutocannon } from "./http_autocannon.ts";
import { httpClose } from "./http_close.ts";
import { httpWrk } from "./http_wrk.ts";
import { streamThroughput } from "./stream_throughput.ts";
import { udpEcho } from "./udp_echo.ts";
import { unixDgramSocklab } from "./unix_dgram_socklab.ts";

// Lines from the harness: tasks, and go-aheads while a task waits (held connections).
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async (): Promise<string | undefined> => {
  const { value, done } = await lines.next();
  return done ? undefined : value;
};

// Each load client with its own config type; the harness builds the JSON.
const clients: Record<string, (config: never) => Promise<LoadResult>> = {
  "echo-round-trips": echoRoundTrips,
  "stream-throughput": streamThroughput,
  "udp-echo": udpEcho,
  "held-connections": (config: never) => heldConnections(config, nextLine),
  "http-autocannon": httpAutocannon,
  "http-close": httpClose,
  "http-wrk": httpWrk,
  "unix-dgram-socklab": unixDgramSocklab,
};

// One task after another until stdin closes; a failed task ends the process
// (the harness starts a fresh one for the next task).
for (;;) {
  const task = await nextLine();
  if (task === undefined) process.exit(0);
  try {
    const { kind, config } = JSON.parse(task) as { kind: string; config: unknown };
    const client = clients[kind];
    if (client === undefined) throw new Error(`Unknown load client "${kind}"`);
    emit("result", await client(config as never));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
