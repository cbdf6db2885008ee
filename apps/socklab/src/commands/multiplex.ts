import {
  chat,
  echo,
  Multiplexer,
  type MuxConnection,
  type MuxHandler,
  raiseFileLimit,
} from "@socklab/multiplex";
import { defineCommand, UsageError } from "../command.ts";
import { durationOption, hostOption, integer, optionalPathOption, portOption } from "../options.ts";
import { logMultiplexer } from "./_mux_log.ts";
import { hexdumpOption, type TrafficDump, trafficDump } from "./_traffic_dump.ts";

/**
 * Wraps a handler so every chunk a connection receives and every write to it is
 * dumped: the handler sees one stand-in per connection, whose `write` and `send`
 * dump before they write (the chat handler keeps connections and writes to others).
 */
function dumpingHandler(handler: MuxHandler, dump: TrafficDump): MuxHandler {
  const standIns = new WeakMap<MuxConnection, MuxConnection>();
  const peer = (c: MuxConnection): string => `${c.transport}://${c.peer} #${c.id}`;
  const standIn = (c: MuxConnection): MuxConnection => {
    let proxy = standIns.get(c);
    if (proxy === undefined) {
      proxy = new Proxy(c, {
        get(target, key) {
          if (key === "write") {
            return (data: Uint8Array | string) => {
              dump.sent(peer(target), typeof data === "string" ? Buffer.from(data) : data);
              target.write(data);
            };
          }
          if (key === "send") {
            return (data: Uint8Array, maxPending: number) => {
              dump.sent(peer(target), data);
              return target.send(data, maxPending);
            };
          }
          const value: unknown = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      standIns.set(c, proxy);
    }
    return proxy;
  };
  return {
    ...(handler.open === undefined ? {} : { open: (c) => handler.open!(standIn(c)) }),
    data: (c, chunk) => {
      dump.received(peer(c), chunk);
      handler.data?.(standIn(c), chunk);
    },
    ...(handler.end === undefined ? {} : { end: (c) => handler.end!(standIn(c)) }),
    close: (c, reason) => {
      handler.close?.(standIn(c), reason);
      dump.forget(peer(c));
    },
    ...(handler.datagram === undefined ? {} : { datagram: (d) => handler.datagram!(d) }),
    ...(handler.shutdown === undefined ? {} : { shutdown: () => handler.shutdown!() }),
  };
}

/** `socklab multiplex`: the tutorial's select() server (3.4), with the echo line switched on. */
export default defineCommand({
  name: "multiplex",
  summary: "The tutorial's select() server: many clients, echo or chat, idle tick (3.4)",
  usage: "[options]",
  description: [
    "Serves many TCP clients from one event loop (no select() limit of 1,024). Each",
    "connection and close is logged, every byte is echoed back (reading pauses while a",
    "client does not read its echo), and the Unix time is printed whenever nothing",
    "happened for --timeout seconds, as in listing 3.15. --chat relays each line to",
    "every other client instead (like ncat --chat); a client that stops reading is",
    "dropped once --max-pending bytes wait for it.",
  ].join("\n"),
  examples: [
    "socklab multiplex",
    "socklab multiplex --timeout 2 --max-connections 100",
    "socklab multiplex --chat   # then: nc localhost 50000 (in two terminals)",
    "socklab multiplex --path /tmp/unixsocket_tcp   # TCP and a UNIX socket, one loop",
  ],
  options: {
    host: hostOption,
    port: portOption,
    timeout: durationOption(
      "timeout",
      "Print the Unix time after this long without any event (0: never)",
      { default: "5" },
    ),
    "max-connections": {
      type: "string",
      valueName: "N",
      default: "10000",
      description: "Most connections at once; past it clients get a clear refusal",
      parse: integer("max-connections", 1, 10_000_000),
    },
    "idle-timeout": durationOption(
      "idle-timeout",
      "Close a connection after this long without traffic",
    ),
    path: optionalPathOption(
      "Also serve a UNIX stream socket at PATH (@name: abstract), on the same loop",
    ),
    chat: {
      type: "boolean",
      description: "Relay each line to every other client, named <userN> (like ncat --chat)",
    },
    broker: {
      type: "boolean",
      description: "Relay raw bytes to every other client (like ncat --broker)",
    },
    hexdump: hexdumpOption,
    "max-pending": {
      type: "string",
      valueName: "BYTES",
      default: "1048576",
      description: "Chat/broker: bytes that may wait for a slow client before it is dropped",
      parse: integer("max-pending", 1024),
    },
  },
  async run({ values, out, signal }) {
    if (values.chat && values.broker) {
      throw new UsageError(
        "Cannot use --chat with --broker: pick one (--chat relays named lines, --broker raw bytes)",
      );
    }
    const { limit } = raiseFileLimit();
    const wanted = values["max-connections"];
    if (limit !== undefined && limit.soft < wanted + 64) {
      out.note(
        `socklab multiplex: the open-file limit is ${limit.soft} (hard ${limit.hard}); at most about ${Math.max(0, limit.soft - 64)} of --max-connections ${wanted} can be served`,
      );
    }
    const served =
      values.chat || values.broker
        ? chat({ names: values.chat, maxPending: values["max-pending"] })
        : echo();
    const handler = values.hexdump
      ? dumpingHandler(served, trafficDump(true, out.stderr, "stream"))
      : served;
    const mux = new Multiplexer(handler, {
      idleTickMs: values.timeout,
      maxConnections: wanted,
      ...(values["idle-timeout"] === undefined
        ? {}
        : { connectionIdleTimeoutMs: values["idle-timeout"] }),
    });
    logMultiplexer(mux, out);
    try {
      const addresses = await mux.listenTcp({ host: values.host, port: values.port });
      if (values.path !== undefined) {
        const unix = values.path;
        addresses.push(await mux.listenUnix({ path: unix.path, abstract: unix.abstract }));
      }
      out.listening(addresses);
    } catch (err) {
      await mux.close({ graceMs: 0 });
      throw err;
    }
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    await mux.close({ graceMs: 2000 });
    return 0;
  },
});
