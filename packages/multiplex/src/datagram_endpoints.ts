import { formatAddress, formatHostPort } from "@socklab/core";
import type { UdpSocket } from "@socklab/udp";
import type { UnixDgramSocket } from "@socklab/unix-dgram";
import type { DatagramEndpoint, MuxDatagram } from "./multiplexer.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Serves a bound `@socklab/udp` socket from a {@linkcode Multiplexer}.
 *
 * @param socket A socket from `createUdpSocket()`.
 * @returns The endpoint; the multiplexer closes the socket on shutdown.
 * @example
 * ```ts
 * import { createUdpSocket } from "@socklab/udp";
 * import { echo, Multiplexer, udpEndpoint } from "@socklab/multiplex";
 * const mux = new Multiplexer(echo());
 * mux.addDatagramEndpoint(udpEndpoint(await createUdpSocket({ host: "localhost", port: 50000 })));
 * ```
 */
export function udpEndpoint(socket: UdpSocket): DatagramEndpoint {
  return {
    transport: "udp",
    addresses: socket.local,
    start(onDatagram, onError) {
      socket.onDatagram((datagram) => {
        const mux: MuxDatagram = {
          transport: "udp",
          data: datagram.data,
          from: formatHostPort(datagram.from.host, datagram.from.port),
          local: datagram.local,
          truncated: false,
          reply: (data) => socket.reply(datagram, data),
        };
        onDatagram(mux);
      }, onError);
    },
    close: () => socket.close(),
  };
}

/**
 * Serves a bound `@socklab/unix-dgram` socket from a {@linkcode Multiplexer}.
 * Senders that did not bind a path of their own cannot be answered: their
 * datagrams come with `from` undefined and `reply()` rejects with one line.
 * Replies never wait: one a receiver has no room for waits in the socket's
 * bounded queue (`maxQueuedReplies`) or is dropped and counted, and the
 * multiplexer reports drops once per second (its `dropped` event).
 *
 * @param socket A socket from `bindUnixDgram()`.
 * @returns The endpoint; the multiplexer closes the socket (and removes its file) on shutdown.
 * @example
 * ```ts
 * import { bindUnixDgram } from "@socklab/unix-dgram";
 * import { echo, Multiplexer, unixDgramEndpoint } from "@socklab/multiplex";
 * const mux = new Multiplexer(echo());
 * mux.addDatagramEndpoint(unixDgramEndpoint(await bindUnixDgram({ path: "/tmp/unixsocket_udp" })));
 * ```
 */
export function unixDgramEndpoint(socket: UnixDgramSocket): DatagramEndpoint {
  const bound = socket.path ?? "";
  const abstract = bound.startsWith("@"); // the package writes abstract names as @name
  const local = formatAddress({
    transport: "unixgram",
    path: abstract ? bound.slice(1) : bound,
    abstract,
  });
  return {
    transport: "unixgram",
    addresses: [local],
    start(onDatagram) {
      socket.onDatagram((datagram) => {
        const from = datagram.from;
        onDatagram({
          transport: "unixgram",
          data: datagram.data,
          from,
          local,
          truncated: datagram.truncated,
          // Never waits: a reply the receiver has no room for waits in the socket's
          // bounded queue or is dropped and counted (replyStats), so a sender that
          // floods and never reads cannot grow our memory.
          reply: (data) => {
            if (from === undefined) {
              return Promise.reject(
                new Error("Cannot reply: the sender did not bind a path of its own"),
              );
            }
            socket.replyNow(data, from);
            return RESOLVED;
          },
        });
      });
    },
    replyStats: () => socket.replyStats,
    maxQueuedReplies: socket.maxQueuedReplies,
    lastReplyError: () => socket.lastReplyError,
    close: () => socket.close(),
  };
}
