import { hostKind, isUserFacingError } from "@socklab/core";
import { parsePortList, type ScanResult, scanTcp, scanUdp } from "@socklab/scan";
import { defineCommand, UsageError } from "../command.ts";
import { durationOption, integer } from "../options.ts";

/** Reads HOST as written (`[::1]` for IPv6); the empty host is no target. */
function readHost(text: string): string {
  const host = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (host === "")
    throw new UsageError('Cannot scan host "": give a host name or address, such as 127.0.0.1');
  hostKind(host);
  return host;
}

/** `socklab scan`: which ports of a host answer, like nc -z. */
export default defineCommand({
  name: "scan",
  summary: "Scan TCP or UDP ports of a host, like nc -z: open, closed or filtered per port",
  usage: "[options] <host> <ports>",
  description: [
    "PORTS are ports, ranges and service names separated by commas (20-30,80,https), 1 to",
    "65535, scanned once each in the order written. TCP (default): connected is open,",
    "refused is closed, no answer within --timeout is filtered. UDP (-u): one empty datagram",
    "per port; a reply is open, ICMP port unreachable is closed, silence is open|filtered",
    "(kernels rate-limit ICMP, so many closed ports can read as open|filtered).",
    "One line per port (PORT/PROTO STATE), with --open only the open ones; a summary on",
    "stderr. At most --concurrency ports are probed, and sockets open, at once.",
    "Exit code 0 when at least one port is open (UDP: answered), 1 when none is, as nc -z;",
    "2 for a usage error. Scan only hosts you are allowed to scan.",
  ].join("\n"),
  examples: [
    "socklab scan 127.0.0.1 20-30,80,443",
    "socklab scan --open localhost 1-1024",
    "socklab scan -u --timeout 500ms 127.0.0.1 53,123,50000",
    "socklab scan --json --concurrency 20 --timeout 2 [::1] ssh,http",
  ],
  options: {
    udp: { type: "boolean", short: "u", description: "Scan UDP ports instead of TCP" },
    concurrency: {
      type: "string",
      short: "c",
      valueName: "N",
      default: "100",
      description: "Ports probed at once, which is also the most sockets open (1 to 10000)",
      parse: integer("concurrency", 1, 10_000),
    },
    timeout: durationOption("timeout", "How long one port may take", {
      short: "w",
      default: "1",
      min: 1,
    }),
    open: { type: "boolean", description: "Print only open ports" },
  },
  maxPositionals: 2,
  async run({ values, positionals, out, signal }) {
    if (positionals.length !== 2)
      throw new UsageError(
        "Cannot scan: give a host and ports, such as socklab scan 127.0.0.1 20-30,80,443",
      );
    const protocol = values.udp ? "udp" : "tcp";
    let host: string;
    let ports: number[];
    try {
      host = readHost(positionals[0]!);
      ports = parsePortList(positionals[1]!, { protocol });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      if (isUserFacingError(err)) throw new UsageError(err.message, { cause: err });
      throw err;
    }
    const options = { concurrency: values.concurrency, timeoutMs: values.timeout, signal };
    const results = values.udp ? scanUdp(host, ports, options) : scanTcp(host, ports, options);
    const counts: Record<ScanResult["state"], number> = {
      open: 0,
      closed: 0,
      filtered: 0,
      "open|filtered": 0,
    };
    const started = performance.now();
    let address = host;
    try {
      for await (const r of results) {
        counts[r.state] += 1;
        address = r.address;
        if (values.open && r.state !== "open") continue;
        out.event(
          "port",
          {
            host,
            address: r.address,
            protocol,
            port: r.port,
            state: r.state,
            ms: r.ms,
            ...(r.error ? { error: r.error } : {}),
          },
          () => `${r.port}/${protocol} ${r.state}`,
        );
      }
    } catch (err) {
      if (!signal.aborted) throw err;
      const scanned = Object.values(counts).reduce((a, b) => a + b, 0);
      out.note(`socklab scan: stopped after ${scanned} of ${ports.length} ports`);
      return 1;
    }
    const ms = Math.round(performance.now() - started);
    const summary = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${state}`)
      .join(", ");
    if (out.json)
      out.event("done", { host, address, protocol, ports: ports.length, ...counts, ms }, "");
    else if (!out.quiet)
      out.note(
        `scanned ${ports.length} ${protocol} port${ports.length === 1 ? "" : "s"} on ${address} in ${ms} ms: ${summary}`,
      );
    return counts.open > 0 ? 0 : 1;
  },
});
