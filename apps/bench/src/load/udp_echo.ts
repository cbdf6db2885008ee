/**
 * Load client: UDP echo with a fixed number of datagrams in flight. Each
 * datagram carries its sequence number; a reply must match what was sent. A
 * datagram not answered within the timeout counts as lost and its slot sends
 * the next one, so the window stays full; a reply that comes after that counts
 * as late.
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { after, cpuSeconds, describeError, emit, type LoadResult } from "./_report.ts";

/** Settings of {@linkcode udpEcho}. */
export interface UdpEchoConfig {
  host: string;
  port: number;
  /** Datagram size in bytes (at least 8). */
  size: number;
  /** Datagrams in flight. */
  inFlight: number;
  /** Milliseconds before an unanswered datagram counts as lost. */
  timeoutMs: number;
  warmup: number;
  duration: number;
}

/**
 * Runs the UDP echo load and reports `start` and the result.
 *
 * @param config Server, size, window, loss timeout, warm-up and window.
 * @returns Echoes verified inside the window; `lost` (never answered), `late` (answered after
 *   the timeout) and `bad` (wrong bytes) over the whole run.
 * @example
 * ```ts
 * import { udpEcho } from "./udp_echo.ts";
 * const result = await udpEcho({ host: "127.0.0.1", port: 7, size: 64, inFlight: 64, timeoutMs: 250, warmup: 1, duration: 5 });
 * ```
 */
export async function udpEcho(config: UdpEchoConfig): Promise<LoadResult> {
  const { inFlight, size } = config;
  const socket = createSocket("udp4");
  // Slot k sends sequence numbers k, k + inFlight, k + 2·inFlight, …
  const buffers = Array.from({ length: inFlight }, (_, slot) => {
    const buffer = Buffer.alloc(size, 0x30 + (slot % 10));
    buffer.writeUInt32BE(slot, 0);
    return buffer;
  });
  const sequence = new Float64Array(inFlight);
  const sentAt = new Float64Array(inFlight);
  // Per slot: 1 waiting for its echo, 2 timed out after the run (a reply is late), 0 done.
  const state = new Uint8Array(inFlight);
  let echoed = 0;
  let timeouts = 0;
  let late = 0;
  let bad = 0;
  let running = true;
  let sendError: string | undefined;

  const send = (slot: number, seq: number): void => {
    sequence[slot] = seq;
    sentAt[slot] = performance.now();
    state[slot] = 1;
    const buffer = buffers[slot]!;
    buffer.writeUInt32BE(Math.floor(seq / 0x1_0000_0000), 0);
    buffer.writeUInt32BE(seq % 0x1_0000_0000, 4);
    socket.send(buffer);
  };
  const next = (slot: number): void => {
    if (running) send(slot, sequence[slot]! + inFlight);
    else state[slot] = 0;
  };
  socket.on("message", (message) => {
    const seq =
      message.length === size
        ? message.readUInt32BE(0) * 0x1_0000_0000 + message.readUInt32BE(4)
        : -1;
    const slot = seq % inFlight;
    if (seq < 0 || seq > sequence[slot]!) bad++;
    else if (seq < sequence[slot]! || state[slot] === 2) late++;
    else if (state[slot] !== 1 || !message.equals(buffers[slot]!)) bad++;
    else {
      echoed++;
      next(slot);
    }
  });
  socket.on("error", (err) => {
    sendError ??= describeError(err);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(config.port, config.host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const sweep = setInterval(
    () => {
      const now = performance.now();
      for (let slot = 0; slot < inFlight; slot++) {
        if (state[slot] === 1 && now - sentAt[slot]! > config.timeoutMs) {
          timeouts++;
          if (running) send(slot, sequence[slot]! + inFlight);
          else state[slot] = 2;
        }
      }
    },
    Math.max(10, config.timeoutMs / 4),
  );
  for (let slot = 0; slot < inFlight; slot++) send(slot, slot);

  await after(config.warmup);
  const cpu0 = cpuSeconds();
  const count0 = echoed;
  emit("start");
  const t0 = performance.now();
  await after(config.duration);
  const ops = echoed - count0;
  const seconds = (performance.now() - t0) / 1000;
  const clientCpuSeconds = cpuSeconds() - cpu0;
  emit("end");
  running = false;
  // Give the last datagrams their full timeout to come back before counting them lost.
  await after(config.timeoutMs / 1000 + 0.05);
  clearInterval(sweep);
  socket.close();
  // A datagram that timed out but whose echo came later was slow, not lost.
  const lost = timeouts - late;
  return {
    ops,
    seconds,
    bytes: ops * size,
    errors: lost + bad + (sendError === undefined ? 0 : 1),
    lost,
    late,
    bad,
    clientCpuSeconds,
    ...(sendError === undefined ? {} : { firstError: sendError }),
  };
}
