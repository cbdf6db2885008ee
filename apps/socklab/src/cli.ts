/**
 * The `socklab` command: finds the subcommand and runs it in the frame.
 * Subcommands load on demand, so a server starts without loading the others.
 *
 * @module
 */
import { createRequire } from "node:module";
import { nearest } from "./_nearest.ts";
import type { Command, OptionSpecs } from "./command.ts";
import { Output } from "./output.ts";
import { type RunOptions, runCommand } from "./run_command.ts";

/** A subcommand as the command list knows it; its module default-exports the {@linkcode Command}. */
export interface CommandEntry {
  name: string;
  summary: string;
  /** Module under `./commands/`, without `.ts`. */
  module: string;
}

/** Every subcommand, in the order `socklab --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "lab",
    module: "lab",
    summary: "Every transport at once on the tutorial's defaults (npm start)",
  },
  {
    name: "tcp-server",
    module: "tcp_server",
    summary: 'The tutorial\'s web server: "Hallo Welt!" to browsers, curl and listing 3.3 (3.1)',
  },
  {
    name: "tcp-client",
    module: "tcp_client",
    summary: "The tutorial's client: fetch the page, or talk raw TCP like nc (3.2)",
  },
  {
    name: "udp-server",
    module: "udp_server",
    summary: "Print each UDP datagram with its sender, optionally echo it (3.3.1)",
  },
  {
    name: "udp-client",
    module: "udp_client",
    summary: "Send UDP datagrams, eighteen 1s by default, and wait for replies (3.3.2)",
  },
  {
    name: "unix-stream-server",
    module: "unix_stream_server",
    summary: "Serve on a UNIX stream socket file, safe against stale files (3.3.3)",
  },
  {
    name: "unix-stream-client",
    module: "unix_stream_client",
    summary: 'Send "Hallo Welt!" to a UNIX stream socket, or pipe stdin like nc -U (3.3.4)',
  },
  {
    name: "unix-dgram-server",
    module: "unix_dgram_server",
    summary: "Print each UNIX datagram with its sender path, optionally echo it (3.3.5)",
  },
  {
    name: "unix-dgram-client",
    module: "unix_dgram_client",
    summary: 'Send "Hallo Welt!" as a UNIX datagram and wait for replies (3.3.6)',
  },
  {
    name: "multiplex",
    module: "multiplex",
    summary: "The tutorial's select() server: many clients, echo or chat, idle tick (3.4)",
  },
  {
    name: "connect",
    module: "connect",
    summary: "Connect stdin and stdout to any address, like nc: tcp, udp, unix, unixgram",
  },
  {
    name: "listen",
    module: "listen",
    summary: "Listen on any address and connect a client to stdin and stdout, like nc -l",
  },
  {
    name: "relay",
    module: "relay",
    summary: "Listen on one address and relay each client to another, like socat's fork",
  },
  {
    name: "scan",
    module: "scan",
    summary: "Scan TCP or UDP ports of a host, like nc -z: open, closed or filtered per port",
  },
  {
    name: "address",
    module: "address",
    summary: "Explain an address: its parts, what a host resolves to, port and path checks",
  },
];

function version(): string {
  return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
}

/**
 * Loads a subcommand's module.
 *
 * @param entry The command list entry.
 * @returns The command.
 */
export async function loadCommand(entry: CommandEntry): Promise<Command<OptionSpecs>> {
  const module = (await import(`./commands/${entry.module}.ts`)) as {
    default: Command<OptionSpecs>;
  };
  return module.default;
}

function overview(out: Output): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `${out.style.bold("socklab")} ${version()} — the socket programs of "Sockets mit Python", hardened`,
    "",
    "Usage: socklab <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    'Run "socklab <command> --help" for a command\'s options and examples.',
    "",
  ].join("\n");
}

/**
 * Runs `socklab` with its arguments.
 *
 * @param argv The arguments after `socklab`.
 * @param options Streams and stop signal (tests).
 * @returns The exit code.
 */
export async function main(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const out = new Output(options.stdout === undefined ? {} : { stdout: options.stdout as never });
  const stderr = options.stderr ?? process.stderr;
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    if (topic !== undefined) return runCommand(await loadCommand(topic), ["--help"], options);
    out.stdout.write(overview(out));
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    out.stdout.write(`${version()}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    const guess = nearest(
      name,
      COMMANDS.map((c) => c.name),
    );
    const hint = guess === undefined ? "" : `: did you mean ${guess}?`;
    stderr.write(
      `socklab: Unknown command "${name}"${hint}\nRun "socklab --help" for the list of commands.\n`,
    );
    return 2;
  }
  return runCommand(await loadCommand(entry), rest, options);
}
