/**
 * Datagram sockets on any datagram address of the core grammar (`udp://host:port`,
 * `unixgram:///path`, `unixgram:@name`), behind one small interface.
 *
 * @module
 */
import {
  formatAddress,
  formatHostPort,
  invalidArgument,
  type SocketAddress,
  SocklabError,
} from "@socklab/core";
import { createUdpSocket, UDP_MAX_PAYLOAD_IPV4 } from "@socklab/udp";
import { bindUnixDgram, openUnixDgram } from "@socklab/unix-dgram";

/** One datagram received by a {@linkcode DatagramEnd}. */
export interface ReceivedDatagram {
  /** The payload, whole. */
  readonly data: Buffer;
  /**
   * The sender in URI form (`udp://127.0.0.1:40000`, `unixgram:///tmp/c`), or
   * `undefined` for an unbound UNIX sender, which cannot get replies.
   */
  readonly from: string | undefined;
  /** Sends a datagram back to the sender, from the address it arrived on. */
  reply(data: Uint8Array): Promise<void>;
}

/** A bound or connected datagram socket, whatever the transport. */
export interface DatagramEnd {
  /** The bound addresses (a bound end) or the peer (a connected end), in URI form. */
  readonly name: string;
  /** The largest payload `send` and `reply` take, in bytes. */
  readonly maxDatagramSize: number;
  /** The datagrams that arrive, until the socket is closed. */
  datagrams(): AsyncIterable<ReceivedDatagram>;
  /** Sends a datagram to the connected peer (connected ends only). */
  send(data: Uint8Array): Promise<void>;
  /** Closes the socket (and removes a socket file it created). */
  close(): Promise<void>;
}

/**
 * Binds a datagram socket on an address, for a server: UDP (`localhost` is
 * `::1` and `127.0.0.1` on one port) or a UNIX datagram socket (stale files
 * removed, live ones refused).
 *
 * @param address A `udp` or `unixgram` address.
 * @returns The bound end; its datagrams can be answered with `reply`.
 * @throws {TypeError} `ERR_SOCKLAB_NOT_A_DATAGRAM` for a stream address.
 * @throws {AddressInUseError} and the transports' other one-line errors.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { bindDatagram } from "@socklab/relay";
 * const end = await bindDatagram(parseAddress("udp://127.0.0.1:0"));
 * for await (const d of end.datagrams()) await d.reply(d.data); // echo
 * ```
 */
export async function bindDatagram(address: SocketAddress): Promise<DatagramEnd> {
  if (address.transport === "udp") {
    const socket = await createUdpSocket({ host: address.host, port: address.port });
    return {
      name: socket.local.join(", "),
      maxDatagramSize: UDP_MAX_PAYLOAD_IPV4,
      async *datagrams() {
        for await (const d of socket) {
          yield {
            data: d.data,
            from: `udp://${formatHostPort(d.from.host, d.from.port)}`,
            reply: (data) => socket.reply(d, data),
          };
        }
      },
      send: () => Promise.reject(notConnected(socket.local.join(", "))),
      close: () => socket.close(),
    };
  }
  if (address.transport === "unixgram") {
    const path = address.abstract ? `@${address.path}` : address.path;
    const socket = await bindUnixDgram({ path });
    const name = formatAddress(address);
    return {
      name,
      maxDatagramSize: socket.maxDatagramSize,
      async *datagrams() {
        for await (const d of socket) {
          const from = d.from;
          yield {
            data: d.data,
            from: from === undefined ? undefined : unixgramName(from),
            reply: (data) =>
              from === undefined
                ? Promise.reject(
                    new SocklabError(
                      `Cannot answer a datagram on "${name}": its sender is not bound to a path`,
                      { code: "ERR_SOCKLAB_NO_DESTINATION" },
                    ),
                  )
                : socket.send(data, from),
          };
        }
      },
      send: () => Promise.reject(notConnected(name)),
      close: () => socket.close(),
    };
  }
  throw wrongKind(address, "bind");
}

/**
 * Opens a datagram socket connected to an address, for a client: UDP
 * (`localhost` tries `::1`, then `127.0.0.1`) or a UNIX datagram socket bound to
 * a private temp path, so that the peer can answer.
 *
 * @param address A `udp` or `unixgram` address.
 * @returns The connected end: `send` goes to the peer, `datagrams` are its answers.
 * @throws {TypeError} `ERR_SOCKLAB_NOT_A_DATAGRAM` for a stream address.
 * @throws {SocketError} `Cannot connect to "/tmp/x": no such file or directory`, and the transports' other errors.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { openDatagram } from "@socklab/relay";
 * const end = await openDatagram(parseAddress("udp://127.0.0.1:50000"));
 * await end.send(Buffer.from("1111"));
 * await end.close();
 * ```
 */
export async function openDatagram(address: SocketAddress): Promise<DatagramEnd> {
  const name = formatAddress(address);
  if (address.transport === "udp") {
    const socket = await createUdpSocket({
      connect: { host: address.host, port: address.port },
    });
    return {
      name,
      maxDatagramSize: UDP_MAX_PAYLOAD_IPV4,
      async *datagrams() {
        for await (const d of socket) {
          yield { data: d.data, from: name, reply: (data) => socket.send(data) };
        }
      },
      send: (data) => socket.send(data),
      close: () => socket.close(),
    };
  }
  if (address.transport === "unixgram") {
    const path = address.abstract ? `@${address.path}` : address.path;
    const socket = await openUnixDgram({ bind: "auto", connect: path });
    return {
      name,
      maxDatagramSize: socket.maxDatagramSize,
      async *datagrams() {
        for await (const d of socket) {
          yield { data: d.data, from: name, reply: (data) => socket.send(data) };
        }
      },
      send: (data) => socket.send(data),
      close: () => socket.close(),
    };
  }
  throw wrongKind(address, "connect to");
}

function unixgramName(path: string): string {
  return path.startsWith("@")
    ? formatAddress({ transport: "unixgram", path: path.slice(1), abstract: true })
    : formatAddress({ transport: "unixgram", path, abstract: false });
}

function notConnected(name: string): TypeError {
  return invalidArgument(
    "type",
    "ERR_SOCKLAB_NO_DESTINATION",
    `Cannot send on "${name}": it is bound, not connected; answer a datagram instead`,
  ) as TypeError;
}

function wrongKind(address: SocketAddress, action: string): TypeError {
  return invalidArgument(
    "type",
    "ERR_SOCKLAB_NOT_A_DATAGRAM",
    `Cannot ${action} "${formatAddress(address)}" as a datagram socket: it is a stream address`,
  ) as TypeError;
}
