/**
 * Load client: N connections, each sending a small message and waiting for its
 * echo before sending the next (round trips). Every echoed byte is checked
 * against what that connection sent; reads go into one reused buffer.
 *
 * @module
 */
import { connect, type NetConnectOpts, type Socket } from "node:net";
import {
  after,
  connectRetrying,
  cpuSeconds,
  describeError,
  emit,
  type LoadResult,
  type StreamTarget,
} from "./_report.ts";

/** Settings of {@linkcode echoRoundTrips}. */
export interface EchoRoundTripsConfig {
  target: StreamTarget;
  /** Concurrent connections. */
  connections: number;
  /** Message size in bytes (at least 8). */
  size: number;
  /** Seconds of load before the window opens. */
  warmup: number;
  /** Seconds in the window. */
  duration: number;
  /** Connections opened at once while setting up. */
  connectConcurrency?: number;
}

/**
 * Runs echo round trips and reports `start` and the result.
 *
 * @param config Target, connections, message size, warm-up and window.
 * @returns Round trips completed and verified inside the window.
 * @example
 * ```ts
 * import { echoRoundTrips } from "./echo_round_trips.ts";
 * const result = await echoRoundTrips({ target: { host: "127.0.0.1", port: 7 }, connections: 100, size: 64, warmup: 1, duration: 5 });
 * ```
 */
export async function echoRoundTrips(config: EchoRoundTripsConfig): Promise<LoadResult> {
  const { size } = config;
  const readBuffer = Buffer.allocUnsafe(65536);
  let completed = 0;
  let running = true;
  let errors = 0;
  let bad = 0;
  let firstError: string | undefined;
  const sockets = new Set<Socket>();

  const open = async (index: number): Promise<void> => {
    // Bytes 0-3: connection, 4-7: sequence, the rest a fixed pattern.
    const message = Buffer.alloc(size, 0x61 + (index % 26));
    message.writeUInt32BE(index, 0);
    let sequence = 0;
    let got = 0;
    let failed = false;
    let socket: Socket | undefined;
    const fail = (reason: string): void => {
      if (failed) return;
      failed = true;
      errors++;
      firstError ??= reason;
      socket?.destroy();
    };
    const onread = {
      buffer: readBuffer,
      callback(n: number): boolean {
        if (n > size - got || readBuffer.compare(message, got, got + n, 0, n) !== 0) {
          bad++;
          fail("echo differs from what was sent");
          return false;
        }
        got += n;
        if (got < size) return true;
        got = 0;
        completed++;
        if (!running) return true;
        sequence++;
        message.writeUInt32BE(sequence >>> 0, 4);
        socket!.write(message);
        return true;
      },
    };
    socket = await connectRetrying(
      () => connect({ ...config.target, onread } as NetConnectOpts),
      250,
      20,
    );
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on("error", (err) => {
      if (running) fail(describeError(err));
    });
    socket.on("close", () => {
      if (running) fail("server closed the connection");
    });
    socket.write(message);
  };

  const concurrency = config.connectConcurrency ?? 16;
  for (let i = 0; i < config.connections; i += concurrency) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(config.connections, i + concurrency); j++) batch.push(open(j));
    await Promise.all(batch);
  }

  await after(config.warmup);
  const cpu0 = cpuSeconds();
  const count0 = completed;
  emit("start");
  const t0 = performance.now();
  await after(config.duration);
  const ops = completed - count0;
  const seconds = (performance.now() - t0) / 1000;
  emit("end");
  running = false;
  const clientCpuSeconds = cpuSeconds() - cpu0;
  for (const socket of sockets) socket.destroy();
  return {
    ops,
    seconds,
    bytes: ops * size,
    errors,
    bad,
    clientCpuSeconds,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
