import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { runPython } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import type { ScanResult } from "./scan_result.ts";
import { scanUdp } from "./scan_udp.ts";

const PYTHON_UDP_ECHO = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
`;

/** A UDP port that was just bound and is now free: the kernel answers ICMP port unreachable. */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

async function collect(results: AsyncIterable<ScanResult>): Promise<ScanResult[]> {
  const list: ScanResult[] = [];
  for await (const r of results) list.push(r);
  return list;
}

describe("scanUdp()", () => {
  test("reports a Python UDP echo open and a free port closed by ICMP port unreachable", async () => {
    const py = runPython(PYTHON_UDP_ECHO);
    onTestFinished(() => py.kill());
    const echo = Number((await py.waitForLine(/^(\d+)$/))[1]);
    const closed = await closedUdpPort();
    const results = await collect(scanUdp("127.0.0.1", [echo, closed], { timeoutMs: 5000 }));
    expect(results.map((r) => [r.port, r.state, r.error])).toEqual([
      [echo, "open", undefined],
      [closed, "closed", "ECONNREFUSED"],
    ]);
    // Verdicts came from the peer and the kernel, not from the 5 s timeout.
    for (const r of results) expect(r.ms).toBeLessThan(5000);
  });

  test("reports a bound socket that never answers open|filtered after the timeout", async () => {
    const silent = createSocket("udp4");
    silent.bind(0, "127.0.0.1");
    await once(silent, "listening");
    onTestFinished(() => {
      silent.close();
    });
    const received = once(silent, "message");
    const [r] = await collect(
      scanUdp("127.0.0.1", [silent.address().port], {
        timeoutMs: 200,
        payload: new TextEncoder().encode("probe"),
      }),
    );
    expect(r).toMatchObject({ state: "open|filtered", error: "ETIMEDOUT" });
    expect(r!.ms).toBeGreaterThanOrEqual(199);
    const [data] = (await received) as [Buffer];
    expect(data.toString()).toBe("probe");
  });

  test("holds at most `concurrency` sockets", async () => {
    let live = 0;
    let most = 0;
    const ports = await Promise.all(Array.from({ length: 40 }, () => closedUdpPort()));
    const results = await collect(
      scanUdp("127.0.0.1", ports, {
        concurrency: 8,
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
    expect(most).toBeLessThanOrEqual(8);
    expect(live).toBe(0);
  });
});
