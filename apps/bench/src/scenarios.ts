/**
 * The benchmark scenarios of issue 8: which servers each measures, the load it
 * drives against them, the figure it reports and socklab's target.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadResult } from "./load/_report.ts";
import { type Address, PROGRAMS, type ProgramId } from "./programs.ts";

/** Settings every scenario's load reads. */
export interface LoadSettings {
  /** Seconds in each measured window. */
  duration: number;
  /** Seconds of load before each window. */
  warmup: number;
  /** Connections the held-connections scenario opens. */
  heldConnections: number;
  /** The HTTP load tool. */
  httpLoad: "autocannon" | "wrk";
  /** A temp dir for client socket paths. */
  tmpDir: string;
}

/** The task for a load client: which one (`src/load/main.ts` knows them by kind) and its config. */
export interface LoadSpec {
  kind: string;
  config: Record<string, unknown>;
  /**
   * A Python load client to run instead (`src/load/*.py`), for loads Node cannot
   * drive: its `dgram` module has no UNIX datagram sockets.
   */
  python?: string;
}

/** What socklab must reach in a scenario. */
export interface Target {
  /** The target as the issue words it. */
  text: string;
  /** socklab's figure must be at least `factor` × each of these peers' figures. */
  atLeast?: { peers: ProgramId[]; factor: number };
  /** No datagram may be lost. */
  zeroLoss?: boolean;
  /** Held connections: at least `min` (capped at what was asked), at most `maxBytesPerConnection`. */
  held?: { min: number; maxBytesPerConnection: number };
}

/** One scenario. */
export interface Scenario {
  /** Stable id for `--only` and the JSON (`tcp-echo-rt`). */
  id: string;
  /** What is measured, for the table. */
  title: string;
  /** The figure's unit (`req/s`, `MB/s`, `rt/s`, `dgram/s`, `conns`). */
  unit: string;
  /** What one operation is, for CPU per operation (`req`, `rt`, `MB`). */
  operation: string;
  /** The peers, the reference first. */
  peers: ProgramId[];
  /** socklab's servers for this scenario, in order of preference: the first that exists runs. */
  socklab: ProgramId[];
  /** The peer ratios are taken against. */
  reference: ProgramId;
  target: Target;
  /**
   * The load for one measurement.
   *
   * @param address Where the server listens.
   * @param settings Duration, warm-up, tools.
   * @param program Which server it is (the loopback ceiling takes one-way load).
   */
  load(address: Address, settings: LoadSettings, program: ProgramId): LoadSpec;
  /** The figure from a load result (default: operations per second). */
  figure?(result: LoadResult): number;
}

const HTML =
  "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>";
const UNIX_DGRAM_LOAD = join(
  fileURLToPath(new URL(".", import.meta.url)),
  "load",
  "unix_dgram_load.py",
);

const tcp = (address: Address): { host: string; port: number } => {
  if (!("port" in address)) throw new Error("Expected a TCP or UDP address");
  return address;
};
const url = (address: Address): string => `http://${tcp(address).host}:${tcp(address).port}/`;
const megabytesPerSecond = (result: LoadResult): number => result.bytes / result.seconds / 1e6;

function http(close: boolean, connections: number) {
  return (address: Address, settings: LoadSettings): LoadSpec => {
    const timing = { warmup: settings.warmup, duration: settings.duration };
    if (settings.httpLoad === "wrk") {
      return { kind: "http-wrk", config: { url: url(address), connections, close, ...timing } };
    }
    if (close) {
      return {
        kind: "http-close",
        config: { ...tcp(address), connections, expectBody: HTML, ...timing },
      };
    }
    return {
      kind: "http-autocannon",
      config: { url: url(address), connections, expectBody: HTML, ...timing },
    };
  };
}

const roundTrips = (address: Address, settings: LoadSettings): LoadSpec => ({
  kind: "echo-round-trips",
  config: {
    target: address,
    connections: 100,
    size: 64,
    // Few connects at a time: the tutorial's select() server listens with a backlog of 10.
    connectConcurrency: 8,
    warmup: settings.warmup,
    duration: settings.duration,
  },
});

const stream = (address: Address, settings: LoadSettings, program: ProgramId): LoadSpec => ({
  kind: "stream-throughput",
  config: {
    target: address,
    mode: program === "node-sink" ? "oneway" : "echo",
    chunkSize: 65536,
    warmup: settings.warmup,
    duration: settings.duration,
  },
});

// Like to like, as issue 6 asks: Python sends to the Python peer, socklab's
// `@socklab/unix-dgram` to socklab's server.
const unixDgram =
  (mode: "oneway" | "echo") =>
  (address: Address, settings: LoadSettings, program: ProgramId): LoadSpec => {
    if (!("path" in address)) throw new Error("Expected a UNIX socket path");
    const timing = { warmup: settings.warmup, duration: settings.duration };
    if (PROGRAMS[program].socklab) {
      return {
        kind: "unix-dgram-socklab",
        config: {
          path: address.path,
          mode,
          size: 64,
          inFlight: mode === "echo" ? 8 : 32,
          ...timing,
        },
      };
    }
    return {
      kind: `unix-dgram-${mode}`,
      python: UNIX_DGRAM_LOAD,
      config: {
        path: address.path,
        mode,
        size: 64,
        inFlight: 8,
        bindPath: join(settings.tmpDir, `client-${process.pid}-${Date.now()}.sock`),
        warmup: settings.warmup,
        duration: settings.duration,
      },
    };
  };

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: "http-keep-alive",
    title: "hello-web, keep-alive, 50 conns",
    unit: "req/s",
    operation: "req",
    peers: ["node-http"],
    socklab: ["socklab-tcp-server"],
    reference: "node-http",
    target: { text: "≥ 1.2× Node http", atLeast: { peers: ["node-http"], factor: 1.2 } },
    load: http(false, 50),
  },
  {
    id: "http-close",
    title: "hello-web, Connection: close, 10 conns",
    unit: "req/s",
    operation: "req",
    peers: ["python-tutorial-web", "node-http"],
    socklab: ["socklab-tcp-server"],
    reference: "python-tutorial-web",
    target: {
      text: "≥ the tutorial's Python server",
      atLeast: { peers: ["python-tutorial-web"], factor: 1 },
    },
    load: http(true, 10),
  },
  {
    id: "tcp-stream",
    title: "TCP echo, 1 conn streaming 64 KiB writes",
    unit: "MB/s",
    operation: "MB",
    peers: ["python-selectors", "node-net", "socat", "node-sink"],
    socklab: ["socklab-multiplex"],
    reference: "python-selectors",
    target: { text: "≥ Python selectors", atLeast: { peers: ["python-selectors"], factor: 1 } },
    load: stream,
    figure: megabytesPerSecond,
  },
  {
    id: "tcp-echo-rt",
    title: "TCP echo, 100 conns × 64-byte round trips",
    unit: "rt/s",
    operation: "rt",
    peers: ["python-selectors", "python-tutorial-select", "node-net", "socat"],
    socklab: ["socklab-multiplex"],
    reference: "python-selectors",
    target: { text: "≥ Python selectors", atLeast: { peers: ["python-selectors"], factor: 1 } },
    load: roundTrips,
  },
  {
    id: "unix-stream",
    title: "UNIX stream echo, 1 conn streaming 64 KiB writes",
    unit: "MB/s",
    operation: "MB",
    peers: ["node-net-unix", "python-selectors-unix"],
    socklab: ["socklab-multiplex-unix", "socklab-unix-stream"],
    reference: "node-net-unix",
    target: {
      text: "≥ both peers",
      atLeast: { peers: ["node-net-unix", "python-selectors-unix"], factor: 1 },
    },
    load: stream,
    figure: megabytesPerSecond,
  },
  {
    id: "unix-echo-rt",
    title: "UNIX stream echo, 100 conns × 64-byte round trips",
    unit: "rt/s",
    operation: "rt",
    peers: ["node-net-unix", "python-selectors-unix"],
    socklab: ["socklab-multiplex-unix", "socklab-unix-stream"],
    reference: "node-net-unix",
    target: {
      text: "≥ both peers",
      atLeast: { peers: ["node-net-unix", "python-selectors-unix"], factor: 1 },
    },
    load: roundTrips,
  },
  {
    id: "udp-echo",
    title: "UDP echo, 64 bytes, 64 in flight",
    unit: "dgram/s",
    operation: "dgram",
    peers: ["python-udp", "node-dgram"],
    socklab: ["socklab-udp"],
    reference: "python-udp",
    target: {
      text: "≥ Python, 0 loss",
      atLeast: { peers: ["python-udp"], factor: 1 },
      zeroLoss: true,
    },
    load: (address, settings) => ({
      kind: "udp-echo",
      config: {
        ...tcp(address),
        size: 64,
        inFlight: 64,
        timeoutMs: 250,
        warmup: settings.warmup,
        duration: settings.duration,
      },
    }),
  },
  {
    id: "unix-dgram-oneway",
    title: "UNIX datagrams, 64 bytes one way (sender of the same kind)",
    unit: "dgram/s",
    operation: "dgram",
    peers: ["python-unix-dgram"],
    socklab: ["socklab-unix-dgram"],
    reference: "python-unix-dgram",
    target: { text: "≥ Python", atLeast: { peers: ["python-unix-dgram"], factor: 1 } },
    load: unixDgram("oneway"),
  },
  {
    id: "unix-dgram-echo",
    title: "UNIX datagrams, 64-byte echo, 8 in flight (client of the same kind)",
    unit: "dgram/s",
    operation: "dgram",
    peers: ["python-unix-dgram"],
    socklab: ["socklab-unix-dgram"],
    reference: "python-unix-dgram",
    target: { text: "≥ Python", atLeast: { peers: ["python-unix-dgram"], factor: 1 } },
    load: unixDgram("echo"),
  },
  {
    id: "held-conns",
    title: "concurrent idle TCP connections, echo verified on each",
    unit: "conns",
    operation: "conn",
    peers: ["python-selectors", "python-tutorial-select", "node-net"],
    socklab: ["socklab-multiplex"],
    reference: "python-selectors",
    target: {
      text: "≥ 19,900 held (all asked for), ≤ 5 KB/conn",
      held: { min: 19_900, maxBytesPerConnection: 5000 },
    },
    load: (address, settings) => ({
      kind: "held-connections",
      config: {
        ...tcp(address),
        connections: settings.heldConnections,
        concurrency: 32,
        sourceAddresses: Math.max(1, Math.ceil(settings.heldConnections / 1000)),
        timeLimit: Math.max(10, settings.heldConnections / 200),
      },
    }),
    figure: (result) => Number(result.peak ?? result.ops),
  },
];
