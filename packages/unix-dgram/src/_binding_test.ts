import { constants } from "node:os";
import { join } from "node:path";
import { makeTempDir } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { FLAG_TRUNCATED, loadBinding, type RecvCallback } from "./_binding.ts";
import { pythonSend } from "./_test_python.ts";
import { bindUnixDgram } from "./bind_unix_dgram.ts";

const b = loadBinding();

interface Batch {
  count: number;
  datagrams: { data: Buffer; from: string | null; truncated: boolean }[];
}

/** A raw socket whose batches are collected, closed after the test. */
function rawSocket(): { fd: number; batches: Batch[]; next(): Promise<Batch> } {
  const meta = new Int32Array(2 * b.BATCH);
  const batches: Batch[] = [];
  let wake: (() => void) | undefined;
  const onRecv: RecvCallback = (count, data, from) => {
    if (count < 0 || data === undefined || from === undefined) throw new Error(`recv ${count}`);
    const datagrams: Batch["datagrams"] = [];
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = meta[2 * i]!;
      datagrams.push({
        data: Buffer.from(data.subarray(offset, offset + length)),
        from: from[i] ?? null,
        truncated: (meta[2 * i + 1]! & FLAG_TRUNCATED) !== 0,
      });
      offset += length;
    }
    batches.push({ count, datagrams });
    wake?.();
  };
  const fd = b.socket(b.AF_UNIX, b.SOCK_DGRAM, 0, onRecv, () => {}, meta);
  expect(fd).toBeGreaterThanOrEqual(0);
  onTestFinished(() => {
    b.close(fd);
  });
  let taken = 0;
  const next = async (): Promise<Batch> => {
    while (batches.length <= taken) await new Promise<void>((resolve) => (wake = resolve));
    return batches[taken++]!;
  };
  return { fd, batches, next };
}

describe("native binding", () => {
  test("abstract names stay distinct, and a sender's abstract name is reported whole", async () => {
    const name = `socklab-${process.pid}-${Date.now()}`;
    const a = rawSocket();
    const c = rawSocket();
    expect(b.bind(a.fd, `\0${name}-a`)).toBe(0);
    expect(b.bind(c.fd, `\0${name}-b`)).toBe(0);
    const again = rawSocket();
    expect(b.bind(again.fd, `\0${name}-b`)).toBe(-constants.errno.EADDRINUSE);
    const data = Buffer.from("über abstract");
    expect(b.sendto(a.fd, data, 0, data.length, `\0${name}-b`)).toBe(0);
    const batch = await c.next();
    expect(batch.datagrams).toEqual([{ data, from: `\0${name}-a`, truncated: false }]);
    expect(a.batches).toEqual([]);
  });

  test("an abstract name of 107 bytes after the NUL works, one more is refused", () => {
    const s = rawSocket();
    const other = rawSocket();
    const stem = `${process.pid}-${Date.now()}-`;
    expect(b.bind(s.fd, `\0${stem.padEnd(107, "x")}`)).toBe(0);
    expect(b.bind(other.fd, `\0${stem.padEnd(108, "y")}`)).toBe(-constants.errno.ENAMETOOLONG);
  });

  test("a path over 107 bytes fails with ENAMETOOLONG instead of being cut", () => {
    const s = rawSocket();
    expect(b.bind(s.fd, `/tmp/${"x".repeat(103)}`)).toBe(-constants.errno.ENAMETOOLONG);
  });

  test("every datagram queued before a wake-up arrives in one call, in order", async () => {
    const dir = await makeTempDir("socklab-ud");
    onTestFinished(() => dir.remove());
    const receiver = rawSocket();
    const sender = rawSocket();
    const path = join(dir.path, "r.sock");
    expect(b.bind(receiver.fd, path)).toBe(0);
    const sent: Buffer[] = [];
    // Fill the receiver's queue synchronously: nothing is read before this returns.
    for (let i = 0; ; i++) {
      const data = Buffer.alloc(i * 7, i);
      if (b.sendto(sender.fd, data, 0, data.length, path) !== 0) break;
      sent.push(data);
    }
    expect(sent.length).toBeGreaterThan(1);
    const batch = await receiver.next();
    expect(batch.count).toBe(sent.length);
    expect(batch.datagrams.map((d) => d.data)).toEqual(sent);
    expect(batch.datagrams.every((d) => d.from === null && !d.truncated)).toBe(true);
  });

  test("truncation is exact: 65,536 bytes arrive whole, 65,537 arrive cut and flagged", async () => {
    const dir = await makeTempDir("socklab-ud");
    onTestFinished(() => dir.remove());
    const receiver = rawSocket();
    const path = join(dir.path, "r.sock");
    expect(b.bind(receiver.fd, path)).toBe(0);
    const sent = [Buffer.alloc(65_536, 1), Buffer.alloc(65_537, 2)];
    await pythonSend(path, sent);
    const got: Batch["datagrams"] = [];
    while (got.length < 2) got.push(...(await receiver.next()).datagrams);
    expect(got.map((d) => [d.data.length, d.truncated])).toEqual([
      [65_536, false],
      [65_536, true],
    ]);
    expect(got[0]!.data).toEqual(sent[0]);
  });

  test("SO_SNDBUF is reported, and calls on a closed descriptor return -EBADF", () => {
    const s = rawSocket();
    expect(b.sndbuf(s.fd)).toBeGreaterThan(32);
    expect(b.close(s.fd)).toBe(0);
    expect(b.close(s.fd)).toBe(-constants.errno.EBADF);
    expect(b.bind(s.fd, "/tmp/never")).toBe(-constants.errno.EBADF);
    expect(b.send(s.fd, Buffer.alloc(1))).toBe(-constants.errno.EBADF);
    expect(b.sndbuf(s.fd)).toBe(-constants.errno.EBADF);
  });
});

describe("batched receive through the package", () => {
  test("10,000 datagrams sent in a burst arrive complete and in order", async () => {
    const dir = await makeTempDir("socklab-ud");
    onTestFinished(() => dir.remove());
    const path = join(dir.path, "s.sock");
    const server = await bindUnixDgram({ path });
    onTestFinished(() => server.close());
    const count = 10_000;
    const sent = Array.from({ length: count }, (_, i) => {
      const data = Buffer.alloc(4 + (i % 97), i % 251);
      data.writeUInt32BE(i, 0);
      return data;
    });
    const sending = pythonSend(path, sent);
    let i = 0;
    for await (const datagram of server) {
      expect(datagram.data).toEqual(sent[i]);
      expect(datagram.truncated).toBe(false);
      if (++i === count) break;
    }
    await sending;
    expect(i).toBe(count);
    expect(server.queued).toBe(0);
  });
});
