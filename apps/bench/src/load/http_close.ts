/**
 * Load client: one HTTP request per connection (`Connection: close`). Each of
 * N workers connects, sends the request, reads the response to the end of the
 * connection, checks it is a 200 with the expected body, and starts over.
 * Our own because autocannon does not count responses that end with the
 * connection instead of a `content-length` (the tutorial's server sends those).
 *
 * @module
 */
import { connect } from "node:net";
import { after, cpuSeconds, describeError, emit, type LoadResult } from "./_report.ts";

/** Settings of {@linkcode httpClose}. */
export interface HttpCloseConfig {
  host: string;
  port: number;
  /** Requests in flight (one connection each). */
  connections: number;
  /** The body every response must end with. */
  expectBody: string;
  warmup: number;
  duration: number;
}

/**
 * Runs the `Connection: close` load and reports `start` and the result.
 *
 * @param config Server, connections, expected body, warm-up and window.
 * @returns Verified responses completed inside the window.
 * @example
 * ```ts
 * import { httpClose } from "./http_close.ts";
 * const result = await httpClose({ host: "127.0.0.1", port: 8080, connections: 10, expectBody: "hi", warmup: 1, duration: 5 });
 * ```
 */
export async function httpClose(config: HttpCloseConfig): Promise<LoadResult> {
  const request = Buffer.from(
    `GET / HTTP/1.1\r\nHost: ${config.host}:${config.port}\r\nConnection: close\r\n\r\n`,
  );
  const body = Buffer.from(config.expectBody);
  let ok = 0;
  let errors = 0;
  let bytes = 0;
  let firstError: string | undefined;
  let running = true;

  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let failed = false;
      const socket = connect({ host: config.host, port: config.port }, () => {
        socket.write(request);
      });
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", (err) => {
        failed = true;
        firstError ??= describeError(err);
      });
      socket.on("close", () => {
        const response = Buffer.concat(chunks);
        if (
          !failed &&
          /^HTTP\/1\.[01] 200 /.test(response.subarray(0, 16).toString("latin1")) &&
          response.subarray(response.length - body.length).equals(body)
        ) {
          ok++;
          bytes += response.length;
        } else {
          errors++;
          if (!failed)
            firstError ??= `unexpected response: ${JSON.stringify(response.subarray(0, 40).toString("latin1"))}`;
        }
        resolve();
      });
    });
  const worker = async (): Promise<void> => {
    while (running) await once();
  };
  const workers = Promise.all(Array.from({ length: config.connections }, worker));

  await after(config.warmup);
  const cpu0 = cpuSeconds();
  const ok0 = ok;
  const bytes0 = bytes;
  emit("start");
  const t0 = performance.now();
  await after(config.duration);
  const ops = ok - ok0;
  const seconds = (performance.now() - t0) / 1000;
  const clientCpuSeconds = cpuSeconds() - cpu0;
  emit("end");
  running = false;
  await workers;
  return {
    ops,
    seconds,
    bytes: bytes - bytes0,
    errors,
    clientCpuSeconds,
    ...(firstError === undefined ? {} : { firstError }),
  };
}
