/**
 * The servers the bench measures: socklab's commands, started as real
 * processes, and the peers a user might pick instead (the tutorial's Python
 * programs, Python `selectors`, bare Node, socat). Each prints where it listens;
 * nothing uses a fixed port or path.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loopedWebServer, selectEchoServer } from "./tutorial_peers.ts";

/** Where a server can be reached. */
export type Address = { host: string; port: number } | { path: string };

/** How to start one server for one measurement. */
export interface Launch {
  command: string;
  args: string[];
  /** The line that says it is ready; `address` reads the address from its match. */
  ready: RegExp;
  address(match: RegExpExecArray): Address;
}

/** What a program needs to run. */
export interface Requirement {
  /** External programs on the PATH (`python3`, `socat`). */
  programs?: string[];
  /** A socklab subcommand that must exist (probed with `--help`). */
  socklab?: string;
}

/** A server the bench can measure. */
export interface Program {
  /** Stable id, used in the JSON and the progress lines (`node-net`). */
  id: string;
  /** What the table shows. */
  label: string;
  /** Whether this is socklab (targets apply) or a peer. */
  socklab: boolean;
  requires: Requirement;
  /** Raise the open-file limit to the hard limit for this server (held connections). */
  raiseFileLimit?: boolean;
  /**
   * The command line.
   *
   * @param socketPath A fresh path in a temp dir for UNIX servers.
   */
  launch(socketPath: string): Launch;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The peers folder of the bench app. */
export const PEERS_DIR: string = join(here, "..", "peers");
/** The `socklab` command's entry script. */
export const SOCKLAB_BIN: string = join(
  dirname(createRequire(import.meta.url).resolve("socklab/package.json")),
  "bin",
  "socklab.js",
);

// Every socklab server and peer prints `listening on tcp://127.0.0.1:40123` (or udp://, or
// unix:PATH) once it is bound; the tutorial's listings print `socklab-ready ('127.0.0.1', 40123)`.
const LISTENING = /^listening on (\S+)/;
const PYTHON_READY = /^socklab-ready \('([^']+)', (\d+)\)/;

/**
 * Reads the address from a `listening on URI` line.
 *
 * @param uri `tcp://127.0.0.1:40123`, `udp://[::1]:40123`, or a UNIX URI.
 * @param path The socket path the server was given (UNIX servers).
 * @returns The address.
 */
export function parseListening(uri: string, path?: string): Address {
  const inet = /^(?:tcp|udp):\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(uri);
  if (inet !== null) {
    return { host: inet[1]!, port: Number(inet[2]) };
  }
  if (path === undefined) throw new Error(`Cannot read the address in "listening on ${uri}"`);
  return { path };
}

function listening(command: string, args: string[], path?: string): Launch {
  return { command, args, ready: LISTENING, address: (match) => parseListening(match[1]!, path) };
}

function socklab(args: string[], path?: string): Launch {
  return listening(process.execPath, [SOCKLAB_BIN, ...args, "--quiet"], path);
}

const python = (file: string, args: string[], path?: string): Launch =>
  listening("python3", ["-u", join(PEERS_DIR, file), ...args], path);
const node = (file: string, args: string[], path?: string): Launch =>
  listening(process.execPath, [join(PEERS_DIR, file), ...args], path);
const tutorial = (source: string): Launch => ({
  command: "python3",
  args: ["-u", "-c", source],
  ready: PYTHON_READY,
  address: (m) => ({ host: m[1]!, port: Number(m[2]) }),
});

/** Every server, by id. */
export const PROGRAMS = {
  // --- hello web ---
  "socklab-tcp-server": {
    id: "socklab-tcp-server",
    label: "socklab tcp-server",
    socklab: true,
    requires: { socklab: "tcp-server" },
    launch: () => socklab(["tcp-server", "--host", "127.0.0.1", "--port", "0"]),
  },
  "node-http": {
    id: "node-http",
    label: "bare Node http",
    socklab: false,
    requires: {},
    launch: () => node("node_http_hello.mjs", ["0"]),
  },
  "python-tutorial-web": {
    id: "python-tutorial-web",
    label: "tutorial 3.2 web server (Python, looped)",
    socklab: false,
    requires: { programs: ["python3"] },
    launch: () => tutorial(loopedWebServer()),
  },
  // --- TCP echo ---
  "socklab-multiplex": {
    id: "socklab-multiplex",
    label: "socklab multiplex",
    socklab: true,
    requires: { socklab: "multiplex" },
    raiseFileLimit: true,
    launch: () =>
      socklab(["multiplex", "--host", "127.0.0.1", "--port", "0", "--max-connections", "100000"]),
  },
  "python-selectors": {
    id: "python-selectors",
    label: "Python selectors echo",
    socklab: false,
    requires: { programs: ["python3"] },
    raiseFileLimit: true,
    launch: () => python("python_selectors_echo.py", ["tcp", "0"]),
  },
  "python-tutorial-select": {
    id: "python-tutorial-select",
    label: "tutorial 3.15 select() echo (Python)",
    socklab: false,
    requires: { programs: ["python3"] },
    raiseFileLimit: true,
    launch: () => tutorial(selectEchoServer()),
  },
  "node-net": {
    id: "node-net",
    label: "bare Node net (pipe)",
    socklab: false,
    requires: {},
    raiseFileLimit: true,
    launch: () => node("node_net_echo.mjs", ["tcp", "0"]),
  },
  socat: {
    id: "socat",
    label: "socat (fork, PIPE)",
    socklab: false,
    requires: { programs: ["socat"] },
    launch: () => ({
      command: "socat",
      args: ["-d", "-d", "TCP4-LISTEN:0,bind=127.0.0.1,reuseaddr,fork,backlog=1024", "PIPE"],
      ready: /listening on AF=2 ([\d.]+):(\d+)/,
      address: (m) => ({ host: m[1]!, port: Number(m[2]) }),
    }),
  },
  "node-sink": {
    id: "node-sink",
    label: "loopback ceiling (bare Node, one way)",
    socklab: false,
    requires: {},
    launch: () => node("node_tcp_sink.mjs", ["0"]),
  },
  // --- UNIX stream echo ---
  "socklab-unix-stream": {
    id: "socklab-unix-stream",
    label: "socklab unix-stream-server --echo",
    socklab: true,
    requires: { socklab: "unix-stream-server" },
    launch: (path) => socklab(["unix-stream-server", "--echo", "--path", path], path),
  },
  "socklab-multiplex-unix": {
    id: "socklab-multiplex-unix",
    label: "socklab multiplex --path",
    socklab: true,
    requires: { socklab: "multiplex" },
    launch: (path) => ({
      ...socklab(["multiplex", "--host", "127.0.0.1", "--port", "0", "--path", path!], path),
      ready: /^listening on (unix:\S+)/,
    }),
  },
  "node-net-unix": {
    id: "node-net-unix",
    label: "bare Node net (pipe)",
    socklab: false,
    requires: {},
    launch: (path) => node("node_net_echo.mjs", ["unix", path], path),
  },
  "python-selectors-unix": {
    id: "python-selectors-unix",
    label: "Python selectors echo",
    socklab: false,
    requires: { programs: ["python3"] },
    launch: (path) => python("python_selectors_echo.py", ["unix", path], path),
  },
  // --- UDP echo ---
  "socklab-udp": {
    id: "socklab-udp",
    label: "socklab udp-server --echo",
    socklab: true,
    requires: { socklab: "udp-server" },
    launch: () => socklab(["udp-server", "--echo", "--host", "127.0.0.1", "--port", "0"]),
  },
  "python-udp": {
    id: "python-udp",
    label: "Python UDP echo",
    socklab: false,
    requires: { programs: ["python3"] },
    launch: () => python("python_udp_echo.py", ["0"]),
  },
  "node-dgram": {
    id: "node-dgram",
    label: "bare Node dgram",
    socklab: false,
    requires: {},
    launch: () => node("node_dgram_echo.mjs", ["0"]),
  },
  // --- UNIX datagrams ---
  "socklab-unix-dgram": {
    id: "socklab-unix-dgram",
    label: "socklab unix-dgram-server --echo",
    socklab: true,
    requires: { socklab: "unix-dgram-server" },
    launch: (path) => socklab(["unix-dgram-server", "--echo", "--path", path], path),
  },
  "python-unix-dgram": {
    id: "python-unix-dgram",
    label: "Python UNIX datagram server",
    socklab: false,
    requires: { programs: ["python3"] },
    launch: (path) => python("python_unix_dgram_echo.py", [path], path),
  },
} as const satisfies Record<string, Program>;

/** A program's id. */
export type ProgramId = keyof typeof PROGRAMS;
