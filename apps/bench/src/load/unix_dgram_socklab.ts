/**
 * Load client: UNIX datagrams sent with socklab's own `@socklab/unix-dgram`
 * (the "socklab to socklab" line of issue 6). `oneway` keeps `inFlight` sends
 * going from an unbound socket (the receiver cannot answer); `echo` binds a
 * private path and keeps `inFlight` numbered datagrams waiting for their echo,
 * each checked.
 *
 * @module
 */
import { after, cpuSeconds, emit, type LoadResult } from "./_report.ts";

/** Settings of {@linkcode unixDgramSocklab}. */
export interface UnixDgramSocklabConfig {
  path: string;
  mode: "oneway" | "echo";
  /** Datagram size in bytes (at least 8). */
  size: number;
  /** Datagrams in flight (sends pending one way; echoes awaited in echo mode). */
  inFlight: number;
  warmup: number;
  duration: number;
}

/**
 * Runs the UNIX datagram load through `@socklab/unix-dgram`.
 *
 * @param config Receiver path, mode, size, window, warm-up and window.
 * @returns Datagrams the kernel took (one way; a full queue blocks, nothing is dropped) or
 *   echoes verified, inside the window.
 * @example
 * ```ts
 * import { unixDgramSocklab } from "./unix_dgram_socklab.ts";
 * const result = await unixDgramSocklab({ path: "/tmp/x.sock", mode: "oneway", size: 64, inFlight: 32, warmup: 1, duration: 5 });
 * ```
 */
export async function unixDgramSocklab(config: UnixDgramSocklabConfig): Promise<LoadResult> {
  // Loaded only here: the package is native and may not be built where only other scenarios run.
  const { openUnixDgram } = await import("@socklab/unix-dgram");
  const { size, inFlight } = config;
  const socket = await openUnixDgram({
    connect: config.path,
    ...(config.mode === "echo" ? { bind: "auto" } : {}),
  });
  let done = 0;
  let bad = 0;
  let running = true;
  let error: string | undefined;
  // A datagram's bytes follow from its sequence number, so any echo can be checked.
  const message = (sequence: number): Buffer => {
    const buffer = Buffer.alloc(size, 0x41 + (sequence % 26));
    buffer.writeUInt32BE(sequence, 0);
    return buffer;
  };
  const fail = (err: Error): void => {
    error ??= err.message;
    running = false;
  };

  let work: Promise<unknown>;
  if (config.mode === "oneway") {
    // `inFlight` lanes, each sending as soon as the kernel took its last datagram.
    const lane = async (slot: number): Promise<void> => {
      const buffer = message(slot);
      while (running) {
        await socket.send(buffer);
        done++;
      }
    };
    work = Promise.all(Array.from({ length: inFlight }, (_, slot) => lane(slot))).catch(fail);
  } else {
    // One reader checks each echo against what its sequence number says and sends the next.
    const outstanding = new Set<number>();
    let next = 0;
    const sendNext = (): Promise<void> => {
      const sequence = next++;
      outstanding.add(sequence);
      return socket.send(message(sequence));
    };
    work = (async () => {
      for (let i = 0; i < inFlight; i++) await sendNext();
      while (running) {
        const { data } = await socket.receive({ timeoutMs: 2000 });
        const sequence = data.length === size ? data.readUInt32BE(0) : -1;
        if (!outstanding.delete(sequence) || !data.equals(message(sequence))) {
          bad++;
          continue;
        }
        done++;
        await sendNext();
      }
    })().catch(fail);
  }

  await after(config.warmup);
  const cpu0 = cpuSeconds();
  const count0 = done;
  emit("start");
  const t0 = performance.now();
  await after(config.duration);
  const ops = done - count0;
  const seconds = (performance.now() - t0) / 1000;
  const clientCpuSeconds = cpuSeconds() - cpu0;
  emit("end");
  running = false;
  await Promise.race([work, after(3)]);
  await socket.close();
  if (error !== undefined && ops === 0) throw new Error(error);
  return {
    ops,
    seconds,
    bytes: ops * size,
    errors: bad + (error === undefined ? 0 : 1),
    bad,
    clientCpuSeconds,
    ...(error === undefined ? {} : { firstError: error }),
  };
}
