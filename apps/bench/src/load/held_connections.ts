/**
 * Load client: opens many TCP connections and holds them, checking an echo on
 * each as it opens and again on every one once all are open. Source addresses
 * are spread over 127.0.0.x so one address's ephemeral ports never run out.
 * When all are open it reports `held` and waits for the harness's go-ahead (it
 * samples the server's memory meanwhile), then closes them all.
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { connectRetrying, cpuSeconds, describeError, emit, type LoadResult } from "./_report.ts";

/** Settings of {@linkcode heldConnections}. */
export interface HeldConnectionsConfig {
  host: string;
  port: number;
  /** Connections to open. */
  connections: number;
  /** Connections being opened at once. */
  concurrency: number;
  /** Source addresses 127.0.0.2 … 127.0.0.(1 + n). */
  sourceAddresses: number;
  /** Give up opening after this many seconds. */
  timeLimit: number;
  /** Stop opening after this many failures in a row (the server refuses or died). */
  maxConsecutiveFailures?: number;
  /** Milliseconds an echo may take. */
  echoTimeoutMs?: number;
}

/** One held connection: its socket and a check of its echo. */
interface Held {
  socket: Socket;
  message: Buffer;
}

/**
 * Sends `message` and resolves true when exactly it comes back.
 *
 * @param socket An open connection to an echo server.
 * @param message The bytes.
 * @param timeoutMs How long to wait.
 * @returns Whether the echo matched.
 */
function echoOnce(socket: Socket, message: Buffer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve(ok);
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= message.length) done(got.equals(message));
    };
    const onClose = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.write(message);
  });
}

/**
 * Opens, verifies and holds connections, reports `held`, waits for stdin, closes.
 *
 * @param config Server, how many, how fast, how long.
 * @param goAhead Resolves when the harness has sampled the server's memory.
 * @returns `ops`: connections whose echo was verified while all were open (`peak`: the most
 *   verified at once while opening; `finalCheck`: how many still echoed once all were open).
 * @example
 * ```ts
 * import { heldConnections } from "./held_connections.ts";
 * const result = await heldConnections(
 *   { host: "127.0.0.1", port: 7, connections: 1000, concurrency: 64, sourceAddresses: 16, timeLimit: 30 },
 *   async () => {},
 * );
 * ```
 */
export async function heldConnections(
  config: HeldConnectionsConfig,
  goAhead: () => Promise<unknown>,
): Promise<LoadResult> {
  const echoTimeout = config.echoTimeoutMs ?? 5000;
  const maxFailures = config.maxConsecutiveFailures ?? 20;
  const held = new Set<Held>();
  let alive = 0;
  let peak = 0;
  let opened = 0;
  let failures = 0;
  let consecutive = 0;
  let firstError: string | undefined;
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const deadline = t0 + config.timeLimit * 1000;

  const openOne = async (index: number): Promise<void> => {
    const message = Buffer.from(`held ${String(index).padStart(8, "0")}\n`);
    let socket: Socket | undefined;
    try {
      socket = await connectRetrying(
        () =>
          connect({
            host: config.host,
            port: config.port,
            localAddress: `127.0.0.${2 + (index % config.sourceAddresses)}`,
          }),
        500,
        10,
      );
    } catch (err) {
      failures++;
      consecutive++;
      firstError ??= describeError(err);
      return;
    }
    socket.on("error", () => {});
    if (!(await echoOnce(socket, message, echoTimeout))) {
      failures++;
      consecutive++;
      firstError ??= "no echo";
      socket.destroy();
      return;
    }
    consecutive = 0;
    const entry = { socket, message };
    held.add(entry);
    alive++;
    peak = Math.max(peak, alive);
    socket.once("close", () => {
      if (held.delete(entry)) alive--;
    });
  };

  // A fixed number of openers, each opening the next connection when its last one is done.
  let next = 0;
  const opener = async (): Promise<void> => {
    while (next < config.connections && consecutive < maxFailures && performance.now() < deadline) {
      const index = next++;
      opened++;
      await openOne(index);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, opener));
  const openSeconds = (performance.now() - t0) / 1000;

  // Every connection echoes once more now that all are open.
  let finalCheck = 0;
  const list = [...held];
  for (let i = 0; i < list.length; i += 512) {
    const results = await Promise.all(
      list.slice(i, i + 512).map(({ socket, message }) => echoOnce(socket, message, echoTimeout)),
    );
    finalCheck += results.filter(Boolean).length;
  }

  emit("held", { held: finalCheck, peak, openSeconds });
  await goAhead();
  for (const { socket } of held) socket.destroy();
  return {
    ops: finalCheck,
    seconds: openSeconds,
    bytes: 0,
    errors: failures,
    peak,
    opened,
    finalCheck,
    clientCpuSeconds: cpuSeconds() - cpu0,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
