import { bytesRepr, type StreamConnection } from "@socklab/core";
import { type HelloWebOptions, helloWeb, listenTcp } from "@socklab/tcp-server";
import { defineCommand } from "../command.ts";
import { durationOption, hostOption, integer, portOption } from "../options.ts";
import { hexdumpOption, trafficDump } from "./_traffic_dump.ts";

/** How long handlers may finish their answer when the server is stopped. */
const STOP_GRACE_MS = 2000;
/** Log lines are held this long at most, then written together (each write to a pipe wakes its reader). */
const LOG_FLUSH_MS = 50;

/** `socklab tcp-server`: the tutorial's web server (listing 3.2), serving until stopped. */
export default defineCommand({
  name: "tcp-server",
  summary: 'The tutorial\'s web server: "Hallo Welt!" to browsers, curl and listing 3.3 (3.1)',
  usage: "[options]",
  description: [
    "Answers GET / with the tutorial's page, request after request (HTTP/1.0 and 1.1,",
    "keep-alive, pipelining); other paths get 404, bad requests a status and a reason.",
    "localhost means ::1 and 127.0.0.1 on the same port. Logs each connection and",
    "request; --verbose also shows the bytes received as Python shows them (b'abc\\r\\n'),",
    "to repeat the tutorial's experiments 3.1.3 (telnet) and 3.1.4 (browser).",
  ].join("\n"),
  examples: [
    "socklab tcp-server",
    "socklab tcp-server --once --verbose",
    "socklab tcp-server --host '' --port 8080 --max-connections 100",
    "socklab tcp-server --port 0 --json",
  ],
  options: {
    host: hostOption,
    port: portOption,
    once: {
      type: "boolean",
      description: "Serve one connection, then exit (as the tutorial's server does)",
    },
    verbose: {
      type: "boolean",
      short: "v",
      description: "Also log every chunk received as a Python bytes repr, and each close",
    },
    "max-connections": {
      type: "string",
      valueName: "N",
      description: "Serve at most N connections at once; more get 503 (default: no limit)",
      parse: integer("max-connections", 1),
    },
    "header-timeout": durationOption(
      "header-timeout",
      "Time a client has to send a whole request head, else 408",
      { default: "10s", min: 1 },
    ),
    "keep-alive-timeout": durationOption(
      "keep-alive-timeout",
      "Close a keep-alive connection idle this long",
      { default: "5s", min: 1 },
    ),
    hexdump: hexdumpOption,
    backlog: {
      type: "string",
      valueName: "N",
      description: "Queue length for connections not yet accepted (default: the system's)",
      parse: integer("backlog", 0, 65535),
    },
  },
  async run({ values, out, signal }) {
    const logging = out.json || !out.quiet;
    const { style } = out;
    // Under load thousands of lines a second are logged: hold them briefly and
    // write them with one system call, not one each (a third of the CPU time
    // per connection otherwise, with stdout a pipe).
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      out.stdout.uncork();
    };
    const batch = (): void => {
      if (flushTimer !== undefined) return;
      out.stdout.cork();
      flushTimer = setTimeout(flush, LOG_FLUSH_MS);
    };
    const options: HelloWebOptions = {
      headerTimeoutMs: values["header-timeout"],
      keepAliveTimeoutMs: values["keep-alive-timeout"],
    };
    // Nothing to log: no callbacks at all, so the hot path stays bare.
    if (logging) {
      options.onRequest = (r) => {
        const peer = r.connection.remote;
        batch();
        out.event(
          "request",
          {
            peer,
            requestLine: r.requestLine,
            status: r.status,
            ...(r.reason === "" ? {} : { reason: r.reason }),
            bytes: r.bytes,
            keepAlive: r.keepAlive,
          },
          () => {
            const status = String(r.status);
            const colored =
              r.status < 300
                ? style.green(status)
                : r.status < 500
                  ? style.yellow(status)
                  : style.red(status);
            const why = r.reason === "" ? "" : style.dim(`: ${r.reason}`);
            return `${peer} ${JSON.stringify(r.requestLine)} ${colored} ${r.bytes} bytes${why}`;
          },
        );
      };
      if (values.verbose) {
        options.onReceive = (data, connection) => {
          const repr = bytesRepr(data);
          batch();
          out.event(
            "received",
            { peer: connection.remote, bytes: data.length, repr },
            () => `${connection.remote} received ${repr}`,
          );
        };
      }
    }
    const dump = trafficDump(values.hexdump, out.stderr, "stream");
    if (dump.enabled) {
      const peer = (connection: StreamConnection): string => `tcp://${connection.remote}`;
      const onReceive = options.onReceive;
      options.onReceive = (data, connection) => {
        onReceive?.(data, connection);
        dump.received(peer(connection), data);
      };
      options.onSend = (data, connection) => dump.sent(peer(connection), data);
    }
    const web = helloWeb(options);
    const server = await listenTcp({
      host: values.host,
      port: values.port,
      handler: web,
      onRefused: web.onRefused,
      ...(values["max-connections"] === undefined
        ? {}
        : { maxConnections: values["max-connections"] }),
      ...(values.backlog === undefined ? {} : { backlog: values.backlog }),
    });
    if (dump.enabled) server.on("close", (connection) => dump.forget(`tcp://${connection.remote}`));
    server.on("error", (err, connection) =>
      out.note(
        `socklab tcp-server: ${connection === undefined ? "" : `${connection.remote}: `}${err.message}`,
      ),
    );
    if (logging) {
      server.on("connection", (connection) => {
        batch();
        out.event(
          "connection",
          { peer: connection.remote, local: connection.local },
          () => `connection from ${connection.remote}`,
        );
      });
      server.on("refused", (socket) => {
        const peer =
          socket.remoteAddress === undefined
            ? "unknown"
            : `${socket.remoteAddress.includes(":") ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
        batch();
        out.event("refused", { peer, maxConnections: values["max-connections"] }, () =>
          style.yellow(
            `refused ${peer}: ${values["max-connections"]} connections open (--max-connections); answered 503`,
          ),
        );
      });
      if (values.verbose) {
        server.on("close", (connection, reason) => {
          batch();
          out.event(
            "close",
            {
              peer: connection.remote,
              bytesReceived: connection.bytesRead,
              bytesSent: connection.bytesWritten,
              ...(reason === undefined ? {} : { reason: reason.message }),
            },
            () =>
              `closed ${connection.remote} (${connection.bytesRead} bytes received, ${connection.bytesWritten} sent)${reason === undefined ? "" : `: ${reason.message}`}`,
          );
        });
      }
    }
    out.listening(server.addresses);
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
      if (values.once) {
        server.once("connection", (connection) => {
          server.stopAccepting();
          void connection.closed.then(() => resolve());
        });
      }
    });
    await server.close({ graceMs: STOP_GRACE_MS });
    if (flushTimer !== undefined) flush();
    return 0;
  },
});
