import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { hasCommand } from "@socklab/core/testing";
import { describe, expect, test } from "vitest";
import { bareSocket, openSocket } from "./_test_udp.ts";
import { findUdpInode, parseProcNetUdp, readUdpDrops } from "./kernel_drops.ts";

const run = promisify(execFile);
const HEADER =
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";

/** Sends `count` datagrams in one turn of the event loop: the receiver cannot read in between. */
async function flood(port: number, count: number): Promise<void> {
  const { socket } = await bareSocket();
  const payload = Buffer.alloc(512, "x");
  await new Promise<void>((resolve, reject) => {
    let left = count;
    for (let i = 0; i < count; i++) {
      socket.send(payload, port, "127.0.0.1", (err) => {
        if (err) reject(err);
        else if (--left === 0) resolve();
      });
    }
  });
}

describe("parseProcNetUdp()", () => {
  test("reads port, inode and drops of IPv4 and IPv6 rows, and skips what does not parse", () => {
    const text =
      HEADER +
      "  245: 0100007F:C350 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 91234 2 0000000000000000 17\n" +
      "  12: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 555 2 0000000000000000 0\n" +
      "garbage\n";
    expect(parseProcNetUdp(text)).toEqual([
      { localPort: 50000, inode: 91234, drops: 17 },
      { localPort: 53, inode: 555, drops: 0 },
    ]);
  });
});

describe.skipIf(process.platform !== "linux")("the kernel's drop count of a UDP socket", () => {
  test("a flood into a small receive buffer: every datagram is either received or counted as dropped by the system", async () => {
    const server = await openSocket({ host: "127.0.0.1", recvBufferSize: 4096 });
    const sent = 2000;
    await flood(server.port, sent);
    await expect
      .poll(() => server.stats.datagramsReceived + (server.stats.kernelDropped ?? 0), {
        interval: 5,
        timeout: 5000,
      })
      .toBe(sent);
    const { datagramsReceived, kernelDropped } = server.stats;
    expect(kernelDropped).toBeGreaterThan(0);
    expect(datagramsReceived).toBeGreaterThan(0);
    // The same number as the kernel's own table, looked up independently.
    const inode = findUdpInode(4, server.port);
    expect(inode).toBeDefined();
    expect(readUdpDrops(4, inode!)).toBe(kernelDropped);
  });

  test.skipIf(!hasCommand("ss") && process.env.CI !== "true")(
    "ss -uam shows the same drops (its skmem d field)",
    async () => {
      const server = await openSocket({ host: "127.0.0.1", recvBufferSize: 4096 });
      await flood(server.port, 1000);
      await expect
        .poll(() => server.stats.datagramsReceived + (server.stats.kernelDropped ?? 0), {
          interval: 5,
          timeout: 5000,
        })
        .toBe(1000);
      const { stdout } = await run("ss", ["-uamnH", "sport", "=", `:${server.port}`]);
      const d = /skmem:\([^)]*\bd(\d+)\)/.exec(stdout);
      expect(d, stdout).not.toBeNull();
      expect(Number(d![1])).toBe(server.stats.kernelDropped);
    },
  );

  test("a socket with no losses says 0, both ends of a localhost socket are counted, and a closed one keeps its count", async () => {
    const server = await openSocket({ host: "localhost" });
    expect(server.local).toHaveLength(2);
    expect(server.stats.kernelDropped).toBe(0);
    await server.close();
    expect(server.stats.kernelDropped).toBe(0);
  });
});
