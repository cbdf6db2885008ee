import { isIPv4 } from "node:net";
import {
  formatAddress,
  hostKind,
  inspectUnixPath,
  intToIpv4,
  ipv4ToInt,
  isIpAddress,
  isUserFacingError,
  parseAddress,
  privilegedPortNote,
  resolveHost,
  type SocketAddress,
  UNIX_PATH_MAX,
} from "@socklab/core";
import { defineCommand, UsageError } from "../command.ts";

const TRANSPORT_NAMES = {
  tcp: "TCP, a stream of bytes over IP (SOCK_STREAM)",
  tls: "TLS over TCP, an encrypted stream of bytes (SOCK_STREAM)",
  udp: "UDP, datagrams over IP (SOCK_DGRAM)",
  unix: "UNIX stream socket, on this machine only (AF_UNIX, SOCK_STREAM)",
  unixgram: "UNIX datagram socket, on this machine only (AF_UNIX, SOCK_DGRAM)",
} as const;

/** Reads the argument: a URI, or a bare IPv4 address / 32-bit number (tutorial 2.3). */
function readArgument(text: string): SocketAddress | { ipv4: string } {
  if (/^\d+$/.test(text)) return { ipv4: intToIpv4(Number(text)) };
  if (isIPv4(text)) return { ipv4: text };
  return parseAddress(text);
}

function describeHost(host: string): string {
  const kind = hostKind(host);
  if (kind === "any") return "all interfaces (the tutorial's empty host)";
  if (host === "0.0.0.0") return "all IPv4 interfaces";
  if (host === "::") return "all interfaces, IPv6 and (dual-stack) IPv4";
  if (kind === "ipv4") return `IPv4 address, as a 32-bit number ${ipv4ToInt(host)}`;
  if (kind === "ipv6")
    return host.includes("%") ? `IPv6 address with zone "${host.split("%")[1]}"` : "IPv6 address";
  return "host name";
}

function label(address: string): string {
  if (address === "127.0.0.1" || address === "::1") return "loopback";
  if (address.startsWith("127.")) return "loopback";
  return "";
}

/** `socklab address`: explains an address. */
export default defineCommand({
  name: "address",
  summary:
    "Explain a socket address: its parts, what a host resolves to, whether a port or path is usable",
  usage: "<address>",
  description: [
    "Addresses: tcp://HOST:PORT, udp://HOST:PORT (IPv6 in brackets: udp://[::1]:53),",
    "unix:///PATH, unixgram:///PATH, unix:@NAME (Linux abstract). A bare IPv4 address",
    "or a 32-bit number shows both forms (127.0.0.1 = 2130706433, tutorial 2.3).",
  ].join("\n"),
  examples: [
    "socklab address tcp://localhost:50000",
    "socklab address 'unix:///tmp/unixsocket_tcp'",
    "socklab address udp://[::1]:domain",
    "socklab address 2130706433",
  ],
  options: {},
  maxPositionals: 1,
  async run({ positionals, out }) {
    if (positionals.length !== 1)
      throw new UsageError(
        "Cannot explain: give exactly one address, such as tcp://localhost:50000",
      );
    const text = positionals[0]!;
    let parsed: ReturnType<typeof readArgument>;
    try {
      parsed = readArgument(text);
    } catch (err) {
      if (isUserFacingError(err)) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    const rows: [string, string][] = [];
    const facts: Record<string, unknown> = { input: text };
    let failure: Error | undefined;
    if ("ipv4" in parsed) {
      rows.push(["ipv4", parsed.ipv4], ["integer", String(ipv4ToInt(parsed.ipv4))]);
      Object.assign(facts, { ipv4: parsed.ipv4, integer: ipv4ToInt(parsed.ipv4) });
    } else if (isIpAddress(parsed)) {
      const uri = formatAddress(parsed);
      rows.push(["address", uri], ["transport", TRANSPORT_NAMES[parsed.transport]]);
      rows.push([
        "host",
        `${parsed.host === "" ? '""' : parsed.host} — ${describeHost(parsed.host)}`,
      ]);
      Object.assign(facts, {
        address: uri,
        transport: parsed.transport,
        host: parsed.host,
        port: parsed.port,
      });
      try {
        const resolved = await resolveHost(parsed.host);
        facts.resolves = resolved;
        for (const r of resolved) {
          const extra = [
            label(r.address),
            r.family === 4 && r.address !== "0.0.0.0" ? `= ${ipv4ToInt(r.address)}` : "",
          ]
            .filter(Boolean)
            .join(" ");
          rows.push([
            "resolves to",
            `${r.address.padEnd(15)} IPv${r.family}${extra ? ` ${extra}` : ""}`,
          ]);
        }
      } catch (err) {
        if (!isUserFacingError(err)) throw err;
        failure = err;
        rows.push(["resolves to", out.style.red(err.message)]);
      }
      const note = privilegedPortNote(parsed.port);
      const portText =
        parsed.port === 0
          ? "0 — the system picks a free port at bind time"
          : `${parsed.port} — ${note ?? "no privileges needed to bind it"}`;
      rows.push(["port", portText]);
      facts.privileged = note !== undefined;
    } else {
      const uri = formatAddress(parsed);
      const bytes = Buffer.byteLength(parsed.path);
      rows.push(["address", uri], ["transport", TRANSPORT_NAMES[parsed.transport]]);
      Object.assign(facts, {
        address: uri,
        transport: parsed.transport,
        path: parsed.path,
        abstract: parsed.abstract,
        bytes,
      });
      if (parsed.abstract) {
        rows.push([
          "name",
          `@${parsed.path} — Linux abstract socket: no file, gone when the socket closes`,
        ]);
        rows.push(["length", `${bytes} of ${UNIX_PATH_MAX} bytes`]);
      } else {
        rows.push(["path", parsed.path], ["length", `${bytes} of ${UNIX_PATH_MAX} bytes`]);
        const state = await inspectUnixPath(parsed.path);
        facts.state = state.state;
        const explained = {
          free: "free — nothing there; a server can bind it",
          stale:
            "stale — a socket file nobody listens on; socklab servers remove it before binding",
          live: `in use — a running program ${state.state === "live" && state.type === "datagram" ? "is bound to it (datagram)" : "listens on it"}; socklab never steals it`,
          "not-socket": `not a socket — ${state.state === "not-socket" ? state.kind : ""}; socklab refuses to use or delete it`,
        }[state.state];
        rows.push(["state", explained]);
      }
    }
    if (out.json) {
      out.event("address", facts, "");
    } else {
      const width = Math.max(...rows.map(([k]) => k.length));
      for (const [key, value] of rows) out.line(`${out.style.dim(key.padEnd(width))}  ${value}`);
    }
    if (failure !== undefined) {
      out.note(`socklab address: ${failure.message}`);
      return 1;
    }
    return 0;
  },
});
