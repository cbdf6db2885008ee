import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { runPython } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import type { ScanResult } from "./scan_result.ts";
import { scanTcp } from "./scan_tcp.ts";

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as { port: number }).port };
}

/** A port that was just in use and is now free: connecting is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function collect(results: AsyncIterable<ScanResult>): Promise<ScanResult[]> {
  const list: ScanResult[] = [];
  for await (const r of results) list.push(r);
  return list;
}

describe("scanTcp()", () => {
  test("reports a listener open and a just-closed port closed, in the order given", async () => {
    const a = await listen();
    const b = await listen();
    const closed = await closedPort();
    const results = await collect(scanTcp("127.0.0.1", [b.port, closed, a.port]));
    expect(results.map((r) => [r.port, r.state, r.error])).toEqual([
      [b.port, "open", undefined],
      [closed, "closed", "ECONNREFUSED"],
      [a.port, "open", undefined],
    ]);
    for (const r of results) {
      expect(r.address).toBe("127.0.0.1");
      expect(r.ms).toBeGreaterThanOrEqual(0);
    }
  });

  test("reports a port whose listener drops SYNs (full accept queue) filtered after the timeout", async () => {
    // listen(0) and never accept: once the queue is full, Linux drops new SYNs,
    // which is what a firewall's DROP looks like to a scanner.
    const py = runPython(
      "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1])\nsys.stdin.read()",
    );
    onTestFinished(() => py.kill());
    const port = Number((await py.waitForLine(/^(\d+)$/))[1]);
    // Each connection the scan opens and closes stays in the accept queue (nobody
    // accepts it), so a few scans fill the queue.
    let full = false;
    for (let i = 0; i < 8 && !full; i++) {
      const [r] = await collect(scanTcp("127.0.0.1", [port], { timeoutMs: 300 }));
      full = r!.state === "filtered";
    }
    expect(full).toBe(true);
    const [r] = await collect(scanTcp("127.0.0.1", [port], { timeoutMs: 200 }));
    expect(r).toMatchObject({ port, state: "filtered", error: "ETIMEDOUT" });
    expect(r!.ms).toBeGreaterThanOrEqual(199);
  });

  test("scans 2,000 ports with concurrency 100 and never holds more than 100 sockets", async () => {
    const { port } = await listen();
    let live = 0;
    let most = 0;
    const ports = Array.from({ length: 2000 }, (_, i) => 20000 + i).filter((p) => p !== port);
    ports.push(port);
    const results = await collect(
      scanTcp("127.0.0.1", ports, {
        concurrency: 100,
        timeoutMs: 2000,
        onSocket: (socket) => {
          live += 1;
          most = Math.max(most, live);
          (socket as Socket).once("close", () => {
            live -= 1;
          });
        },
      }),
    );
    expect(results.map((r) => r.port)).toEqual(ports);
    expect(results.at(-1)!.state).toBe("open");
    expect(most).toBeLessThanOrEqual(100);
    expect(most).toBeGreaterThan(1);
  });

  test("closes every socket when the consumer stops early", async () => {
    const { port } = await listen();
    const sockets: Socket[] = [];
    for await (const r of scanTcp("127.0.0.1", [port, port + 1, port + 2], {
      concurrency: 3,
      onSocket: (s) => sockets.push(s as Socket),
    })) {
      expect(r.port).toBe(port);
      break;
    }
    expect(sockets.length).toBe(3);
    expect(sockets.every((s) => s.destroyed)).toBe(true);
  });

  test("ends with the signal's reason when aborted", async () => {
    const { port } = await listen();
    const controller = new AbortController();
    const run = async (): Promise<void> => {
      for await (const _ of scanTcp("127.0.0.1", [port, port], { signal: controller.signal }))
        controller.abort(new Error("stopped"));
    };
    await expect(run()).rejects.toThrow("stopped");
  });

  test("rejects bad arguments with one-line RangeErrors", async () => {
    expect(() => scanTcp("127.0.0.1", [80], { timeoutMs: 0 })).toThrow(
      'Cannot use timeout "0": expected whole milliseconds from 1 to 2147483647',
    );
    await expect(collect(scanTcp("127.0.0.1", [80], { concurrency: 0 }))).rejects.toThrow(
      'Cannot use concurrency "0": expected a whole number of at least 1',
    );
    await expect(collect(scanTcp("127.0.0.1", [70000]))).rejects.toMatchObject({
      code: "ERR_SOCKLAB_INVALID_PORT",
      message: 'Cannot scan port "70000": ports to scan are 1 to 65535',
    });
  });
});
