/**
 * Stdin and stdout on a datagram socket, as `nc -u` uses them.
 *
 * @module
 */
import type { Readable, Writable } from "node:stream";
import { SocklabError } from "@socklab/core";
import type { DatagramEnd, ReceivedDatagram } from "./datagram_address.ts";
import { stdioEnd } from "./stream_ends.ts";

/** Options of {@linkcode stdioDatagrams}. */
export interface StdioDatagramsOptions {
  /** Where datagrams to send come from; `null` sends nothing. Default `process.stdin`. */
  input?: Readable | null;
  /** Where received payloads go; `null` discards them. Default `process.stdout`. */
  output?: Writable | null;
  /**
   * Whom stdin's datagrams go to: `"peer"` (a connected end: `send`) or
   * `"last-sender"` (a bound end: a reply to whoever sent the latest datagram).
   */
  sendTo: "peer" | "last-sender";
  /** Sees every datagram: `"sent"` with its receiver, `"received"` with its sender. */
  onDatagram?: (direction: "sent" | "received", peer: string, data: Uint8Array) => void;
  /** Told about stdin bytes that had nobody to go to (no datagram received yet). */
  onUnsent?: (bytes: number) => void;
}

/** A running {@linkcode stdioDatagrams}. */
export interface StdioDatagrams {
  /** Resolves when stdin has ended and every datagram from it is sent; rejects when a send fails. */
  readonly sent: Promise<void>;
  /** Resolves when the socket is closed (every datagram received is written); rejects when receiving fails. */
  readonly received: Promise<void>;
  /** Datagrams and payload bytes each way so far. */
  readonly counts: {
    datagramsSent: number;
    bytesSent: number;
    datagramsReceived: number;
    bytesReceived: number;
  };
  /** Stops reading stdin (stdin stays usable). */
  stopInput(): void;
}

/**
 * Connects stdin and stdout to a datagram socket: each read of stdin is one
 * datagram (a read larger than the transport carries is split at its limit), and
 * each datagram received is written to stdout as it is, with backpressure.
 * On a bound socket, stdin goes to the sender of the latest datagram.
 *
 * @param end A connected or bound datagram end.
 * @param options Input, output, destination and hooks.
 * @returns The running exchange.
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { openDatagram, stdioDatagrams } from "@socklab/relay";
 * const end = await openDatagram(parseAddress("udp://127.0.0.1:50000"));
 * const io = stdioDatagrams(end, { sendTo: "peer" });
 * await io.sent;
 * ```
 */
export function stdioDatagrams(end: DatagramEnd, options: StdioDatagramsOptions): StdioDatagrams {
  // Two ends, so that stopping stdin leaves stdout working.
  const input = stdioEnd({
    input: options.input === undefined ? process.stdin : options.input,
    output: null,
  });
  const output = stdioEnd({
    input: null,
    output: options.output === undefined ? process.stdout : options.output,
  });
  const counts = { datagramsSent: 0, bytesSent: 0, datagramsReceived: 0, bytesReceived: 0 };
  let last: ReceivedDatagram | undefined;

  const received = (async () => {
    for await (const datagram of end.datagrams()) {
      if (options.sendTo === "last-sender") last = datagram;
      counts.datagramsReceived += 1;
      counts.bytesReceived += datagram.data.length;
      options.onDatagram?.("received", datagram.from ?? "an unbound sender", datagram.data);
      if (output.write !== undefined) await output.write(datagram.data);
    }
  })();

  const sent = (async () => {
    if (input.chunks === undefined) return;
    const limit = end.maxDatagramSize;
    for await (const chunk of input.chunks) {
      for (let at = 0; at < chunk.length; at += limit) {
        const piece = chunk.subarray(at, at + limit);
        if (options.sendTo === "peer") {
          await end.send(piece);
          options.onDatagram?.("sent", end.name, piece);
        } else if (last === undefined) {
          options.onUnsent?.(piece.length);
          continue;
        } else if (last.from === undefined) {
          throw new SocklabError(
            `Cannot answer on "${end.name}": the last sender is not bound to a path`,
            { code: "ERR_SOCKLAB_NO_DESTINATION" },
          );
        } else {
          await last.reply(piece);
          options.onDatagram?.("sent", last.from, piece);
        }
        counts.datagramsSent += 1;
        counts.bytesSent += piece.length;
      }
    }
  })();
  return { sent, received, counts, stopInput: () => input.destroy() };
}
