import { parseAddress, type UnixAddress } from "@socklab/core";
import {
  httpOrEcho,
  Multiplexer,
  raiseFileLimit,
  udpEndpoint,
  unixDgramEndpoint,
} from "@socklab/multiplex";
import { helloWeb } from "@socklab/tcp-server";
import { createUdpSocket } from "@socklab/udp";
import { bindUnixDgram } from "@socklab/unix-dgram";
import { defineCommand } from "../command.ts";
import { durationOption, hostOption, integer, portOption } from "../options.ts";
import type { Output } from "../output.ts";
import { logMultiplexer } from "./_mux_log.ts";

function unixPath(name: string) {
  return {
    type: "string",
    valueName: "PATH",
    description: `UNIX ${name} socket path, @name for an abstract socket, "" to leave it out`,
  } as const;
}

function readPath(text: string, transport: "unix" | "unixgram"): UnixAddress | undefined {
  if (text === "") return undefined;
  return parseAddress(text, { transport }) as UnixAddress;
}

function banner(
  out: Output,
  host: string,
  port: number,
  stream: string | undefined,
  dgram: string | undefined,
): void {
  const s = out.style;
  const web = `http://${host.includes(":") ? `[${host}]` : host === "" ? "localhost" : host}:${port}/`;
  const lines = [
    "",
    s.bold("socklab lab — every socket of the tutorial, served at once. Try:"),
    `  ${s.cyan("browser")}  ${web}                     → "Hallo Welt!" (3.1)`,
    `  ${s.cyan("curl")}     curl -v ${web}`,
    `  ${s.cyan("telnet")}   nc localhost ${port}   (or telnet) → every line echoed (3.4)`,
    `  ${s.cyan("udp")}      npm run udp-client -- --wait-reply 500ms or   nc -u localhost ${port}`,
    stream
      ? `  ${s.cyan("unix")}     npm run unix-stream-client   or   nc -U ${stream}`
      : undefined,
    dgram
      ? `  ${s.cyan("unixgram")} npm run unix-dgram-client -- --bind auto --wait-reply 500ms`
      : undefined,
    `  ${s.cyan("python")}   python3 tutorial/listing_3_3_client.py   (and 3.5, 3.9, 3.11)`,
    "Every event is logged; a stats line comes whenever nothing happened for the idle timeout.",
    "Ctrl-C stops gracefully and removes the socket files.",
    "",
  ];
  for (const line of lines) if (line !== undefined) out.line(line);
}

/** `socklab lab` (`npm start`): every transport at once on the tutorial's defaults. */
export default defineCommand({
  name: "lab",
  summary: "Every transport at once on the tutorial's defaults (npm start)",
  usage: "[options]",
  description: [
    "One event loop serving the tutorial's four sockets: TCP on localhost:50000 (an HTTP",
    'request gets the "Hallo Welt!" page, anything else is echoed, so a browser and',
    "telnet both work), UDP on localhost:50000 (echo), a UNIX stream socket at",
    "/tmp/unixsocket_tcp (echo) and a UNIX datagram socket at /tmp/unixsocket_udp (echo",
    "to senders that bound a path). Stale socket files are removed, live ones never.",
  ].join("\n"),
  examples: [
    "socklab lab",
    "socklab lab --port 0 --unix-path /tmp/lab/s --unixgram-path /tmp/lab/d",
    "socklab lab --json | jq .",
  ],
  options: {
    host: hostOption,
    port: portOption,
    "unix-path": { ...unixPath("stream"), default: "/tmp/unixsocket_tcp" },
    "unixgram-path": { ...unixPath("datagram"), default: "/tmp/unixsocket_udp" },
    timeout: durationOption(
      "timeout",
      "Print the time and stats after this long without any event (0: never)",
      { default: "5" },
    ),
    "max-connections": {
      type: "string",
      valueName: "N",
      default: "10000",
      description: "Most stream connections at once; past it clients get a clear refusal",
      parse: integer("max-connections", 1, 10_000_000),
    },
  },
  async run({ values, out, signal }) {
    const stream = readPath(values["unix-path"], "unix");
    const dgram = readPath(values["unixgram-path"], "unixgram");
    const { limit } = raiseFileLimit();
    if (limit !== undefined && limit.soft < values["max-connections"] + 64) {
      out.note(
        `socklab lab: the open-file limit is ${limit.soft}; at most about ${Math.max(0, limit.soft - 64)} connections can be served`,
      );
    }
    const show = out.json || !out.quiet;
    const web = helloWeb(
      show
        ? {
            onRequest: (r) =>
              out.event(
                "request",
                {
                  peer: r.connection.remote,
                  requestLine: r.requestLine,
                  status: r.status,
                  bytes: r.bytes,
                },
                () => `${r.connection.remote} "${r.requestLine}" ${r.status} ${r.bytes} bytes`,
              ),
          }
        : {},
    );
    const mux = new Multiplexer(httpOrEcho(web), {
      idleTickMs: values.timeout,
      maxConnections: values["max-connections"],
    });
    logMultiplexer(mux, out, { stats: true, datagrams: show });
    const addresses: string[] = [];
    try {
      addresses.push(...(await mux.listenTcp({ host: values.host, port: values.port })));
      const tcpPort = Number(/:(\d+)$/.exec(addresses[0]!)![1]);
      addresses.push(
        ...mux.addDatagramEndpoint(
          udpEndpoint(await createUdpSocket({ host: values.host, port: tcpPort })),
        ),
      );
      if (stream) {
        addresses.push(await mux.listenUnix({ path: stream.path, abstract: stream.abstract }));
      }
      if (dgram) {
        const socket = await bindUnixDgram({ path: dgram.path, abstract: dgram.abstract });
        if (socket.removedStale) out.note(`socklab lab: removed stale socket file ${dgram.path}`);
        addresses.push(...mux.addDatagramEndpoint(unixDgramEndpoint(socket)));
      }
    } catch (err) {
      await mux.close({ graceMs: 0 });
      throw err;
    }
    out.listening(addresses);
    if (!out.quiet && !out.json) {
      const port = Number(/:(\d+)$/.exec(addresses[0]!)![1]);
      banner(
        out,
        values.host,
        port,
        stream && !stream.abstract ? stream.path : undefined,
        dgram?.path,
      );
    }
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await mux.close({ graceMs: 2000 });
    return 0;
  },
});
