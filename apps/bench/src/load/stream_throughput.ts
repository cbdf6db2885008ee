/**
 * Load client: one connection streaming large writes. In `echo` mode every
 * byte that comes back is checked against the pattern that was sent and the
 * figure is echoed bytes; in `oneway` mode (the loopback ceiling, against a
 * sink) the figure is bytes written until the server confirmed the end.
 *
 * @module
 */
import { connect, type NetConnectOpts, type Socket } from "node:net";
import {
  after,
  cpuSeconds,
  describeError,
  emit,
  type LoadResult,
  type StreamTarget,
} from "./_report.ts";

/** Settings of {@linkcode streamThroughput}. */
export interface StreamThroughputConfig {
  target: StreamTarget;
  /** `echo`: count verified echoed bytes; `oneway`: count bytes a sink received. */
  mode: "echo" | "oneway";
  /** Bytes per write (64 KiB in the scenarios). */
  chunkSize: number;
  /** Bytes written but not yet echoed, at most (echo mode). */
  window?: number;
  warmup: number;
  duration: number;
}

/** Bytes the client queues in user space before waiting for `drain`. */
const QUEUE_LIMIT = 1 << 20;

/**
 * Streams through one connection and reports `start` and the result.
 *
 * @param config Target, mode, write size, warm-up and window.
 * @returns Bytes moved inside the window (`ops` counts them as writes of `chunkSize`).
 * @example
 * ```ts
 * import { streamThroughput } from "./stream_throughput.ts";
 * const result = await streamThroughput({ target: { path: "/tmp/x.sock" }, mode: "echo", chunkSize: 65536, warmup: 1, duration: 5 });
 * ```
 */
export async function streamThroughput(config: StreamThroughputConfig): Promise<LoadResult> {
  const { chunkSize, mode } = config;
  const window = config.window ?? 8 << 20;
  const pattern = Buffer.allocUnsafe(chunkSize);
  for (let i = 0; i < chunkSize; i++) pattern[i] = (i * 131 + (i >>> 8) * 7) & 0xff;
  const readBuffer = Buffer.allocUnsafe(chunkSize);
  let written = 0;
  let received = 0;
  let running = true;
  let error: string | undefined;
  let socket: Socket;

  const pump = (): void => {
    while (
      running &&
      socket.writableLength < QUEUE_LIMIT &&
      (mode === "oneway" || written - received < window)
    ) {
      socket.write(pattern);
      written += chunkSize;
    }
  };
  // Checks n echoed bytes against the pattern at the stream offset, wrapping at its end.
  const verify = (n: number): boolean => {
    let offset = received % chunkSize;
    let checked = 0;
    while (checked < n) {
      const take = Math.min(n - checked, chunkSize - offset);
      if (readBuffer.compare(pattern, offset, offset + take, checked, checked + take) !== 0) {
        return false;
      }
      checked += take;
      offset = 0;
    }
    return true;
  };

  const closed = new Promise<void>((resolve, reject) => {
    socket = connect({
      ...config.target,
      ...(mode === "echo"
        ? {
            onread: {
              buffer: readBuffer,
              callback(n: number): boolean {
                if (!verify(n)) {
                  error ??= "echo differs from what was sent";
                  socket.destroy();
                  return false;
                }
                received += n;
                pump();
                return true;
              },
            },
          }
        : {}),
    } as NetConnectOpts);
    socket.once("connect", pump);
    socket.on("drain", pump);
    socket.on("error", (err) => {
      error ??= describeError(err);
      if (written === 0) reject(err);
    });
    socket.once("close", () => resolve());
  });
  if (mode === "oneway") socket!.resume();

  await Promise.race([after(config.warmup), closed]);
  const cpu0 = cpuSeconds();
  const start = mode === "echo" ? received : written;
  emit("start");
  const t0 = performance.now();
  await Promise.race([after(config.duration), closed]);
  let bytes: number;
  let seconds: number;
  if (mode === "echo") {
    bytes = received - start;
    seconds = (performance.now() - t0) / 1000;
    emit("end");
    running = false;
    socket!.destroy();
  } else {
    // Every byte written has arrived once the sink, having read to the end, closes too.
    running = false;
    socket!.end();
    await closed;
    bytes = written - start;
    seconds = (performance.now() - t0) / 1000;
    emit("end");
  }
  return {
    ops: bytes / chunkSize,
    seconds,
    bytes,
    errors: error === undefined ? 0 : 1,
    clientCpuSeconds: cpuSeconds() - cpu0,
    ...(error === undefined ? {} : { firstError: error }),
  };
}
