/**
 * What `connect` and `listen` share: their address arguments, their options,
 * and one exchange between stdin/stdout and a connection or datagram socket.
 *
 * @module
 */
import {
  formatAddress,
  formatTrafficDump,
  isUserFacingError,
  parseAddress,
  type SocketAddress,
  type StreamConnection,
  type TrafficDirection,
} from "@socklab/core";
import {
  type CopyCounts,
  connectionEnd,
  copyBothWays,
  type DatagramEnd,
  stdioDatagrams,
  stdioEnd,
} from "@socklab/relay";
import { UsageError } from "../command.ts";
import { duration } from "../options.ts";
import { Output } from "../output.ts";
import { hexdumpOption } from "./_traffic_dump.ts";

/** The options `connect` and `listen` share. */
export const STDIO_OPTIONS = {
  udp: {
    type: "boolean",
    short: "u",
    description: "HOST PORT arguments are UDP, not TCP (as nc -u)",
  },
  "no-shutdown": {
    type: "boolean",
    description:
      "Keep sending open at the end of stdin (no half-close); wait for the peer to close",
  },
  "recv-only": { type: "boolean", description: "Only receive: stdin is not read" },
  "send-only": {
    type: "boolean",
    description: "Only send: what arrives is discarded; done at the end of stdin",
  },
  hexdump: hexdumpOption,
} as const;

/** Parsed values of {@linkcode STDIO_OPTIONS}. */
export interface StdioValues {
  udp: boolean;
  "no-shutdown": boolean;
  "recv-only": boolean;
  "send-only": boolean;
  hexdump: boolean;
}

/**
 * Reads the address arguments: one URI (`tcp://h:p`, `udp://h:p`, `unix:///path`,
 * `unixgram:///path`), a UNIX path or `@name`, `host:port`, or `host port` as nc takes them.
 *
 * @param positionals The arguments.
 * @param udp Whether `host port` and `host:port` mean UDP.
 * @param defaultHost The host of a lone port (`listen 8080`), or `undefined` where a host is required.
 * @returns The address.
 */
export function addressArguments(
  positionals: readonly string[],
  udp: boolean,
  defaultHost: string | undefined,
): SocketAddress {
  try {
    return readAddress(positionals, udp, defaultHost);
  } catch (err) {
    if (isUserFacingError(err) && !(err instanceof UsageError)) {
      throw new UsageError(err.message, { cause: err });
    }
    throw err;
  }
}

function readAddress(
  positionals: readonly string[],
  udp: boolean,
  defaultHost: string | undefined,
): SocketAddress {
  const transport = udp ? "udp" : "tcp";
  const [first, second, ...rest] = positionals;
  if (first === undefined)
    throw new UsageError("Cannot start without an address, such as tcp://localhost:50000");
  if (rest.length > 0)
    throw new UsageError(`Cannot use "${rest[0]}": give one address, or a host and a port`);
  if (second !== undefined) {
    const host = first.startsWith("[") && first.endsWith("]") ? first.slice(1, -1) : first;
    return parseAddress(`${transport}://${host.includes(":") ? `[${host}]` : host}:${second}`);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(first) && !/^[^/]*:\d+$/.test(first) && !first.includes("]:")) {
    return parseAddress(first);
  }
  if (first.startsWith("/") || first.startsWith("@") || first.startsWith(".")) {
    return parseAddress(first, { transport: "unix" });
  }
  if (/^\d+$/.test(first) && defaultHost !== undefined) {
    return parseAddress(`${transport}://${defaultHost}:${first}`);
  }
  return parseAddress(first, { transport });
}

/**
 * A second printer for events when stdout carries the data: the same `--json` and
 * `--quiet`, on stderr.
 *
 * @param out The command's printer.
 * @returns A printer whose "stdout" is stderr.
 */
export function eventOutput(out: Output): Output {
  return new Output({
    json: out.json,
    quiet: out.quiet,
    color: out.color,
    stdout: out.stderr,
    stderr: out.stderr,
  });
}

/**
 * Parses `--timeout` and the like: the shared parser {@linkcode duration} from
 * options.ts (seconds by default, or with a unit), kept under this name for
 * connect, listen and relay.
 *
 * @param name The option's name.
 * @returns A parser for an option spec.
 * @example
 * ```ts
 * durationOption("timeout")("2"); // 2000
 * ```
 */
export function durationOption(name: string): (value: string) => number {
  return duration(name);
}

/** Writes traffic dumps to stderr when `-x` is given. */
export function dumper(
  values: StdioValues,
  stderr: NodeJS.WritableStream,
):
  | ((direction: TrafficDirection, peer: string, bytes: Uint8Array, offset?: number) => void)
  | undefined {
  if (!values.hexdump) return undefined;
  return (direction, peer, bytes, offset) => {
    stderr.write(formatTrafficDump(direction, peer, bytes, offset));
  };
}

/** Checks the combinations of the shared flags. */
export function checkStdioValues(values: StdioValues): void {
  if (values["recv-only"] && values["send-only"]) {
    throw new UsageError("Cannot use --recv-only and --send-only together");
  }
}

/**
 * Copies between stdin/stdout and one stream connection until both directions
 * are done (or, with `--send-only`, until stdin is sent).
 *
 * @param conn The connection.
 * @param peer How to name the peer in dumps.
 * @param values The shared flags.
 * @param stderr Where dumps go.
 * @param signal Stops the exchange.
 * @returns Bytes sent (`aToB`) and received (`bToA`).
 */
export async function streamSession(
  conn: StreamConnection,
  peer: string,
  values: StdioValues,
  stderr: NodeJS.WritableStream,
  signal: AbortSignal,
): Promise<CopyCounts> {
  const dump = dumper(values, stderr);
  const stdio = stdioEnd({
    ...(values["recv-only"] ? { input: null } : {}),
    ...(values["send-only"] ? { output: null } : {}),
  });
  const copy = copyBothWays(stdio, connectionEnd(conn, peer), {
    halfClose: { aToB: !values["no-shutdown"] },
    ...(dump === undefined
      ? {}
      : {
          onChunk: (direction, chunk, offset) =>
            dump(direction === "aToB" ? "sent" : "received", peer, chunk, offset),
        }),
  });
  const stop = (): void => copy.stop();
  signal.addEventListener("abort", stop, { once: true });
  try {
    if (values["send-only"]) {
      await Promise.race([copy.finished.aToB, copy.done]);
      copy.stop();
    }
    return await copy.done;
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

/**
 * Exchanges datagrams between stdin/stdout and a datagram socket until stdin
 * ends (connected: then `lingerMs` more for answers) or the signal aborts.
 *
 * @param end The socket.
 * @param sendTo `"peer"` (connected) or `"last-sender"` (bound).
 * @param values The shared flags.
 * @param log Where notes go.
 * @param signal Stops the exchange.
 * @param lingerMs How long a connected socket waits for answers after stdin ended.
 * @returns Nothing; the socket is closed.
 */
export async function datagramSession(
  end: DatagramEnd,
  sendTo: "peer" | "last-sender",
  values: StdioValues,
  log: Output,
  signal: AbortSignal,
  lingerMs: number,
): Promise<void> {
  const dump = dumper(values, log.stderr);
  const io = stdioDatagrams(end, {
    sendTo,
    ...(values["recv-only"] ? { input: null } : {}),
    ...(values["send-only"] ? { output: null } : {}),
    ...(dump === undefined
      ? {}
      : { onDatagram: (direction, peer, data) => dump(direction, peer, data) }),
    onUnsent: (bytes) =>
      log.note(
        `Cannot send ${bytes} bytes from stdin: no datagram has arrived yet, so nobody to answer`,
      ),
  });
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => {
    const close = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      io.stopInput();
      resolve();
    };
    signal.addEventListener("abort", close, { once: true });
    if (sendTo === "peer" && !values["recv-only"]) {
      io.sent.then(
        () => {
          timer = setTimeout(close, lingerMs);
        },
        () => {},
      );
    }
  });
  try {
    await Promise.race([closed, io.sent.then(() => closed), io.received]);
  } finally {
    io.stopInput();
    await end.close();
  }
  await io.received;
  if (log.json) log.event("closed", { peer: end.name, ...io.counts }, "");
}

/** The URI of a stream connection's peer, for events and dumps. */
export function peerName(conn: StreamConnection, address: SocketAddress): string {
  if (address.transport === "unix") return formatAddress(address);
  const remote = conn.remoteAddress;
  return remote === undefined
    ? conn.remote
    : formatAddress({ transport: "tcp", host: remote.address, port: remote.port });
}

/**
 * Lets the process end while stdin is still open (a terminal, a pipe nobody
 * closes): called when a command is done with stdin for good.
 */
export function releaseStdin(): void {
  if (!process.stdin.destroyed) process.stdin.destroy();
}
