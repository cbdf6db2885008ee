import type { Socket } from "node:net";
import { StreamConnection } from "@socklab/core";

/** Bytes of echo waiting for a client before reading from it pauses. */
export const ECHO_PAUSE_BYTES = 256 * 1024;

/** The stream transports a multiplexer serves. */
export type StreamTransport = "tcp" | "unix";

/** What the registry shows of an open connection (the tutorial's `rlist`, with more to say). */
export interface ConnectionInfo {
  id: number;
  transport: StreamTransport;
  /** Who is on the other end: `127.0.0.1:40390`, `[::1]:40390`, or `unnamed` for UNIX peers. */
  peer: string;
  /** Where it came in: `127.0.0.1:50000`, the socket path. */
  local: string;
  bytesIn: number;
  bytesOut: number;
  /** Milliseconds since the connection opened. */
  ageMs: number;
}

/**
 * One stream connection of a {@linkcode Multiplexer}: an id in the registry,
 * byte counters, and two ways to write — {@linkcode write} for echo (reading pauses
 * while the peer does not read) and {@linkcode send} for brokers (a bounded buffer,
 * then the slow consumer is dropped so it never stalls the others).
 */
export class MuxConnection {
  readonly id: number;
  readonly transport: StreamTransport;
  readonly peer: string;
  readonly local: string;
  readonly socket: Socket;
  readonly openedAt: number = Date.now();
  /** Why the connection closed, once it did or is closing. */
  closeReason: string | undefined;
  /** Free for handlers: per-connection state (a chat name, a line splitter, …). */
  state: unknown;
  #paused = false;
  #handedOff = false;
  /** Made on the first pause only: most connections never need it. */
  #resume: (() => void) | undefined;

  constructor(id: number, transport: StreamTransport, socket: Socket, peer: string, local: string) {
    this.id = id;
    this.transport = transport;
    this.socket = socket;
    this.peer = peer;
    this.local = local;
  }

  /** Bytes received so far. */
  get bytesIn(): number {
    return this.socket.bytesRead;
  }

  /** Bytes sent so far. */
  get bytesOut(): number {
    return this.socket.bytesWritten;
  }

  /** Bytes waiting in our write buffer. */
  get pending(): number {
    return this.socket.writableLength;
  }

  /** Whether a handler took the connection over with {@linkcode handOff}. */
  get handedOff(): boolean {
    return this.#handedOff;
  }

  /**
   * Writes with backpressure for echo: when {@linkcode ECHO_PAUSE_BYTES} wait in
   * the write buffer, reading from this connection pauses until the peer has
   * read them, so a client that sends much and reads slowly cannot grow the
   * server's memory past that (plus one read).
   *
   * @param data The bytes.
   */
  write(data: Uint8Array | string): void {
    const socket = this.socket;
    // Pausing at Node's 16 KiB mark would stop and start reading on every 64 KiB chunk;
    // a larger mark keeps a streaming echo flowing and still bounds memory per client.
    if (
      !socket.write(data) &&
      socket.writableLength >= ECHO_PAUSE_BYTES &&
      !this.#paused &&
      !socket.destroyed
    ) {
      this.#paused = true;
      socket.pause();
      this.#resume ??= () => {
        this.#paused = false;
        this.socket.resume();
      };
      socket.once("drain", this.#resume);
    }
  }

  /**
   * Writes for a broker: never pauses the sender; when more than `maxPending`
   * bytes would wait for this (slow) consumer, it is disconnected instead.
   *
   * @param data The bytes.
   * @param maxPending The most bytes that may wait.
   * @returns `false` when the connection was dropped as a slow consumer.
   */
  send(data: Uint8Array, maxPending: number): boolean {
    if (this.socket.destroyed) return false;
    if (this.socket.writableLength + data.length > maxPending) {
      this.close(`slow consumer: more than ${maxPending} bytes waiting`);
      return false;
    }
    this.socket.write(data);
    return true;
  }

  /** Half-closes after everything written is flushed; the peer sees end of stream. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  /**
   * Closes at once.
   *
   * @param reason Why, for the close event and logs.
   */
  close(reason: string): void {
    this.closeReason ??= reason;
    this.socket.destroy();
  }

  /**
   * Hands the connection to a handler written with the stream-connection API
   * (the hello-web page, for one): the multiplexer stops delivering data events
   * and keeps it in the registry until it closes.
   *
   * @param firstChunk Bytes already read, given back to the new reader first.
   * @returns A {@linkcode StreamConnection} over the same socket.
   */
  handOff(firstChunk?: Uint8Array): StreamConnection {
    this.#handedOff = true;
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    if (this.#paused) this.#resume?.();
    const connection = new StreamConnection(this.socket, { remote: this.peer, local: this.local });
    if (firstChunk !== undefined && firstChunk.length > 0) connection.unshift(firstChunk);
    return connection;
  }

  /** A snapshot for the registry. */
  info(now: number = Date.now()): ConnectionInfo {
    return {
      id: this.id,
      transport: this.transport,
      peer: this.peer,
      local: this.local,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      ageMs: now - this.openedAt,
    };
  }
}
