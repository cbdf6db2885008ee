import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { ClosedError, LimitExceededError, SocketError, TimeoutError } from "./errors.ts";
import { IncompleteReadError, StreamConnection } from "./stream_connection.ts";

type Family = "IPv4" | "IPv6" | "unix";

interface Pair {
  /** The client end. */
  client: net.Socket;
  /** The end the server accepted. */
  peer: net.Socket;
  /** The UNIX socket path, for `unix`. */
  path: string;
}

/** A connected pair of real sockets, closed and cleaned up when the test finishes. */
async function connectedPair(
  family: Family = "IPv4",
  clientOptions: net.NetConnectOpts | object = {},
): Promise<Pair> {
  const server = net.createServer();
  let dir: string | undefined;
  let path = "";
  if (family === "unix") {
    dir = await mkdtemp(join(tmpdir(), "socklab-stream-"));
    path = join(dir, "s.sock");
    server.listen(path);
  } else {
    server.listen(0, family === "IPv6" ? "::1" : "127.0.0.1");
  }
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const address = server.address();
  const client =
    family === "unix"
      ? net.connect({ ...clientOptions, path })
      : net.connect({
          ...clientOptions,
          port: (address as net.AddressInfo).port,
          host: family === "IPv6" ? "::1" : "127.0.0.1",
        });
  client.setNoDelay(true);
  let peer: net.Socket | undefined;
  onTestFinished(async () => {
    client.destroy();
    peer?.destroy();
    server.close();
    await once(server, "close");
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  await once(client, "connect");
  [peer] = await accepted;
  return { client, peer, path };
}

async function ipv6Available(): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(0, "::1");
    await once(server, "listening");
    server.close();
    return true;
  } catch {
    return false;
  }
}

const hasIpv6 = await ipv6Available();

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Writes bytes one at a time, each after the previous one arrived, so that every byte is its own chunk. */
async function writeBytewise(client: net.Socket, peer: net.Socket, text: string): Promise<void> {
  for (const byte of Buffer.from(text)) {
    const arrived = once(peer, "data");
    client.write(Buffer.of(byte));
    await arrived;
  }
}

/** The error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected the promise to reject");
}

describe("StreamConnection reads", () => {
  test("recv() returns up to max bytes as soon as any are there, and empty buffers at the end of the stream", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.write("hi");
    expect((await conn.recv(4096)).toString()).toBe("hi");
    client.write("hello");
    const pieces: string[] = [];
    while (pieces.join("").length < 5) {
      const piece = await conn.recv(4);
      expect(piece.length).toBeLessThanOrEqual(4);
      pieces.push(piece.toString());
    }
    expect(pieces.join("")).toBe("hello");
    client.end();
    expect(await conn.recv(10)).toEqual(Buffer.alloc(0));
    expect(await conn.recv(10)).toEqual(Buffer.alloc(0));
    expect(conn.ended).toBe(true);
    expect(conn.bytesRead).toBe(7);
  });

  test("readUntil() finds a delimiter that arrives split over 1-byte chunks", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const head = conn.readUntil("\r\n\r\n", 1024);
    await writeBytewise(client, peer, "GET / HTTP/1.0\r\nHost: x\r\n\r\nbody");
    expect((await head).toString()).toBe("GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    expect((await conn.readExactly(4)).toString()).toBe("body");
  });

  test("readUntil() reads line after line from one chunk, with a Uint8Array delimiter", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.end("one\ntwo\nthree");
    expect((await conn.readUntil(Uint8Array.of(10), 100)).toString()).toBe("one\n");
    expect((await conn.readUntil("\n", 100)).toString()).toBe("two\n");
    const err = await rejection(conn.readUntil("\n", 100));
    expect(err).toBeInstanceOf(IncompleteReadError);
  });

  test.each([
    { sent: "012345678\n", max: 10, want: "012345678\n", outcome: "the line" },
    { sent: "0123456789\n", max: 10, want: undefined, outcome: "LimitExceededError" },
    { sent: "0123456789abcdef", max: 10, want: undefined, outcome: "LimitExceededError" },
  ])('readUntil("\\n", $max) of $sent gives $outcome', async ({ sent, max, want }) => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.write(sent);
    if (want !== undefined) {
      expect((await conn.readUntil("\n", max)).toString()).toBe(want);
      return;
    }
    const err = await rejection(conn.readUntil("\n", max));
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).limit).toBe(max);
    expect(err.message).toBe(`Cannot receive from "${conn.remote}": no "\\n" within ${max} bytes`);
    // Nothing was consumed: the bytes are still there.
    expect((await conn.readExactly(sent.length)).toString()).toBe(sent);
  });

  test("readUntil() at the end of the stream rejects with the partial bytes", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.end("partial");
    const err = await rejection(conn.readUntil("\n", 100));
    expect(err).toBeInstanceOf(ClosedError);
    expect(err.code).toBe("ERR_SOCKLAB_CLOSED");
    expect((err as IncompleteReadError).partial.toString()).toBe("partial");
    expect(err.message).toBe(
      `Cannot receive from "${conn.remote}": the peer closed the connection after 7 bytes without "\\n"`,
    );
    expect(await conn.recv(10)).toEqual(Buffer.alloc(0));
  });

  test("readExactly() joins chunks, splits them, and reports a short stream", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const first = conn.readExactly(5);
    await writeBytewise(client, peer, "abc");
    client.write("defg");
    expect((await first).toString()).toBe("abcde");
    expect((await conn.readExactly(2)).toString()).toBe("fg");
    expect(await conn.readExactly(0)).toEqual(Buffer.alloc(0));
    client.end("xyz");
    const err = await rejection(conn.readExactly(5));
    expect(err).toBeInstanceOf(IncompleteReadError);
    expect((err as IncompleteReadError).partial.toString()).toBe("xyz");
    expect((err as IncompleteReadError).expected).toBe(5);
    expect(err.message).toBe(
      `Cannot receive from "${conn.remote}": the peer closed the connection after 3 of 5 bytes`,
    );
  });

  test("readToEnd() returns everything and rejects more than max bytes", async () => {
    const data = randomBytes(300_000);
    {
      const { client, peer } = await connectedPair();
      const conn = new StreamConnection(peer, { maxBuffered: 64 * 1024 });
      client.end(data);
      expect(sha256(await conn.readToEnd())).toBe(sha256(data));
    }
    {
      const { client, peer } = await connectedPair();
      const conn = new StreamConnection(peer);
      client.end(data.subarray(0, 100));
      const err = await rejection(conn.readToEnd(50));
      expect(err).toBeInstanceOf(LimitExceededError);
      expect(err.message).toBe(
        `Cannot receive from "${conn.remote}": more than 50 bytes before the end of the stream`,
      );
    }
  });

  test("async iteration yields exactly the 5 MB that were sent", async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.end(data);
    const hash = createHash("sha256");
    let total = 0;
    for await (const chunk of conn) {
      hash.update(chunk);
      total += chunk.length;
    }
    expect(total).toBe(data.length);
    expect(hash.digest("hex")).toBe(sha256(data));
  });

  test("unshift() puts bytes back for the next read, and finishes a waiting read", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.write("hello world");
    const all = await conn.readExactly(11);
    conn.unshift(all.subarray(5));
    expect((await conn.recv(100)).toString()).toBe(" world");
    const line = conn.readUntil("\n", 100);
    conn.unshift(Buffer.from("line\nrest"));
    expect((await line).toString()).toBe("line\n");
    expect((await conn.recv(100)).toString()).toBe("rest");
  });

  test("a second read while one is pending is a TypeError with a code", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const first = conn.recv(10);
    const err = await rejection(conn.recv(10));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe("ERR_SOCKLAB_READ_PENDING");
    client.write("x");
    expect((await first).toString()).toBe("x");
  });

  test.each([
    { name: "recv(0)", read: (c: StreamConnection) => c.recv(0) },
    { name: "recv(1.5)", read: (c: StreamConnection) => c.recv(1.5) },
    { name: "readExactly(-1)", read: (c: StreamConnection) => c.readExactly(-1) },
    { name: 'readUntil("", 10)', read: (c: StreamConnection) => c.readUntil("", 10) },
    { name: 'readUntil("\\r\\n", 1)', read: (c: StreamConnection) => c.readUntil("\r\n", 1) },
    { name: "readToEnd(-1)", read: (c: StreamConnection) => c.readToEnd(-1) },
    {
      name: "recv(10, { timeoutMs: -1 })",
      read: (c: StreamConnection) => c.recv(10, { timeoutMs: -1 }),
    },
  ])("$name rejects with a RangeError", async ({ read }) => {
    const { peer } = await connectedPair();
    const err = await rejection(read(new StreamConnection(peer)));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toMatch(/^ERR_SOCKLAB_INVALID_/);
  });

  test("the constructor rejects a bad maxBuffered and a non-socket", async () => {
    const { peer } = await connectedPair();
    expect(() => new StreamConnection(peer, { maxBuffered: 0 })).toThrow(
      expect.objectContaining({ name: "RangeError", code: "ERR_SOCKLAB_INVALID_SIZE" }),
    );
    expect(() => new StreamConnection({} as net.Socket)).toThrow(
      expect.objectContaining({ name: "TypeError", code: "ERR_SOCKLAB_INVALID_SOCKET" }),
    );
  });
});

describe("StreamConnection flow control", () => {
  test("a connection nobody reads pauses the socket at maxBuffered and then delivers everything intact", async () => {
    const maxBuffered = 256 * 1024;
    const data = randomBytes(8 * 1024 * 1024);
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer, { maxBuffered });
    let peak = 0;
    peer.on("data", () => {
      peak = Math.max(peak, conn.bufferedBytes);
    });
    const paused = once(peer, "pause");
    client.end(data);
    await paused;
    expect(conn.bufferedBytes).toBeGreaterThanOrEqual(maxBuffered);
    const hash = createHash("sha256");
    let total = 0;
    for (;;) {
      const chunk = await conn.recv(16 * 1024);
      if (chunk.length === 0) break;
      hash.update(chunk);
      total += chunk.length;
    }
    expect(total).toBe(data.length);
    expect(hash.digest("hex")).toBe(sha256(data));
    // One socket chunk (at most 64 KiB) may land after the limit is reached, never more.
    expect(peak).toBeLessThanOrEqual(maxBuffered + 64 * 1024);
  });

  test("write() resolves only as the peer reads, and the socket's write buffer stays bounded", async () => {
    const chunkSize = 64 * 1024;
    const data = randomBytes(20 * 1024 * 1024);
    const { client, peer } = await connectedPair();
    peer.pause();
    const conn = new StreamConnection(client);
    let sent = 0;
    let maxWritable = 0;
    let onBlocked!: (sentSoFar: number) => void;
    const blocked = new Promise<number>((resolve) => {
      onBlocked = resolve;
    });
    const writer = (async () => {
      for (let offset = 0; offset < data.length; offset += chunkSize) {
        const done = conn.write(data.subarray(offset, offset + chunkSize));
        // Bytes still queued after write() returned: the kernel's buffers are full.
        maxWritable = Math.max(maxWritable, conn.socket.writableLength);
        if (conn.socket.writableLength > 0) onBlocked(sent);
        await done;
        sent += chunkSize;
      }
      await conn.end();
    })();
    const sentWhenBlocked = await blocked;
    // The peer has not read a byte: the writer is stuck well before the end.
    expect(sentWhenBlocked).toBeLessThan(data.length);
    expect(sent).toBe(sentWhenBlocked);
    const hash = createHash("sha256");
    let received = 0;
    peer.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      received += chunk.length;
    });
    peer.resume();
    await Promise.all([writer, once(peer, "end")]);
    expect(received).toBe(data.length);
    expect(hash.digest("hex")).toBe(sha256(data));
    expect(maxWritable).toBeLessThanOrEqual(chunkSize);
    expect(conn.bytesWritten).toBe(data.length);
  });
});

describe("StreamConnection half-close and close", () => {
  test("end() lets the peer read to the end while we still read its reply", async () => {
    const { client, peer } = await connectedPair();
    const clientConn = new StreamConnection(client);
    const serverConn = new StreamConnection(peer);
    await clientConn.end("request");
    const request = await serverConn.readToEnd();
    expect(request.toString()).toBe("request");
    expect(serverConn.ended).toBe(true);
    // Half-open: the server can still answer after the client's FIN.
    await serverConn.end(Buffer.concat([Buffer.from("reply to "), request]));
    expect((await clientConn.readToEnd()).toString()).toBe("reply to request");
    await Promise.all([clientConn.close(), serverConn.close()]);
  });

  test("close() sends FIN, waits for the peer, and later reads reject with a ClosedError", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const pending = rejection(conn.recv(10));
    const clientEnded = once(client, "end");
    await conn.close();
    await clientEnded;
    expect(await pending).toBeInstanceOf(ClosedError);
    const err = await rejection(conn.recv(10));
    expect(err).toBeInstanceOf(ClosedError);
    expect(err.message).toBe(`Cannot receive from "${conn.remote}": the connection is closed`);
    const writeErr = await rejection(conn.write("late"));
    expect(writeErr).toBeInstanceOf(ClosedError);
    expect(writeErr.message).toBe(`Cannot send to "${conn.remote}": the connection is closed`);
  });

  test("close() destroys the socket when the peer does not close within timeoutMs", async () => {
    const { client, peer } = await connectedPair("IPv4", { allowHalfOpen: true });
    const conn = new StreamConnection(peer);
    const clientClosed = once(client, "close");
    await conn.close({ timeoutMs: 20 });
    expect(peer.destroyed).toBe(true);
    client.end();
    await clientClosed;
  });

  test("destroy(reason) rejects the pending read with the reason", async () => {
    const { peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const pending = rejection(conn.recv(10));
    const reason = new Error("shutting down");
    conn.destroy(reason);
    expect(await pending).toBe(reason);
    await conn.closed;
  });
});

describe("StreamConnection errors and timeouts", () => {
  test("a reset by the peer rejects the pending read with a one-line ECONNRESET error", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const pending = rejection(conn.recv(10));
    const clientPort = client.localPort;
    client.resetAndDestroy();
    const err = await pending;
    expect(err).toBeInstanceOf(SocketError);
    expect(err.code).toBe("ECONNRESET");
    expect(err.message).toBe(
      `Cannot receive from "127.0.0.1:${clientPort}": connection reset by peer`,
    );
  });

  test("writing to a peer that is gone rejects with a one-line EPIPE or ECONNRESET error", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    client.destroy();
    expect(await conn.recv(10)).toEqual(Buffer.alloc(0));
    let err: (Error & { code?: string }) | undefined;
    // The first write may still be taken by the kernel; the peer's RST fails a later one.
    for (let i = 0; i < 1000 && err === undefined; i++) {
      err = await conn.write("data").then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    }
    expect(err).toBeInstanceOf(SocketError);
    expect(["EPIPE", "ECONNRESET"]).toContain(err!.code);
    expect(err!.message).toMatch(
      /^Cannot send to "127\.0\.0\.1:\d+": (broken pipe \(the peer closed the connection\)|connection reset by peer)$/,
    );
  });

  test("recv() with timeoutMs rejects with a TimeoutError and keeps later bytes", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const err = await rejection(conn.recv(10, { timeoutMs: 20 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe("ETIMEDOUT");
    expect((err as TimeoutError).timeoutMs).toBe(20);
    expect(err.message).toBe(`Cannot receive from "${conn.remote}": timed out after 20 ms`);
    client.write("late");
    expect((await conn.recv(10, { timeoutMs: 5000 })).toString()).toBe("late");
  });

  test("readUntil() that times out leaves the partial line buffered", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const arrived = once(peer, "data");
    client.write("abc");
    await arrived;
    expect(await rejection(conn.readUntil("\n", 100, { timeoutMs: 20 }))).toBeInstanceOf(
      TimeoutError,
    );
    client.write("\n");
    expect((await conn.readUntil("\n", 100)).toString()).toBe("abc\n");
  });

  test("an AbortSignal rejects a pending read, or a read before it starts, with its reason", async () => {
    const { client, peer } = await connectedPair();
    const conn = new StreamConnection(peer);
    const controller = new AbortController();
    const pending = rejection(conn.readExactly(10, { signal: controller.signal }));
    const reason = new Error("user cancelled");
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(await rejection(conn.recv(10, { signal: controller.signal }))).toBe(reason);
    client.write("still here");
    expect((await conn.readExactly(10)).toString()).toBe("still here");
  });

  test("setIdleTimeout() destroys a silent connection with a TimeoutError, or calls onIdle", async () => {
    {
      const { peer } = await connectedPair();
      const conn = new StreamConnection(peer);
      conn.setIdleTimeout(20);
      const err = await rejection(conn.recv(10));
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.message).toBe(`Cannot keep "${conn.remote}" open: no traffic for 20 ms`);
      await conn.closed;
    }
    {
      const { client, peer } = await connectedPair();
      const conn = new StreamConnection(peer);
      const idle = new Promise<void>((resolve) => conn.setIdleTimeout(20, resolve));
      await idle;
      conn.setIdleTimeout(0);
      client.write("after idle");
      expect((await conn.readExactly(10)).toString()).toBe("after idle");
    }
  });
});

describe("StreamConnection addresses", () => {
  test("remote and local name IPv4 ends as address:port", async () => {
    const { client, peer } = await connectedPair("IPv4");
    const conn = new StreamConnection(client);
    expect(conn.remote).toBe(`127.0.0.1:${peer.localPort}`);
    expect(conn.local).toBe(`127.0.0.1:${client.localPort}`);
    expect(conn.remoteAddress).toEqual({
      address: "127.0.0.1",
      family: "IPv4",
      port: peer.localPort,
    });
  });

  test.skipIf(!hasIpv6)(
    "remote and local name IPv6 ends as [address]:port, and bytes echo over ::1",
    async () => {
      const { client, peer } = await connectedPair("IPv6");
      const conn = new StreamConnection(client);
      const serverConn = new StreamConnection(peer);
      expect(conn.remote).toBe(`[::1]:${peer.localPort}`);
      expect(conn.local).toBe(`[::1]:${client.localPort}`);
      expect(serverConn.remote).toBe(`[::1]:${client.localPort}`);
      expect(conn.remoteAddress).toEqual({ address: "::1", family: "IPv6", port: peer.localPort });
      await conn.write("ping");
      await serverConn.write(await serverConn.readExactly(4));
      expect((await conn.readExactly(4)).toString()).toBe("ping");
    },
  );

  test("a UNIX stream socket carries bytes both ways and names its ends by path or unnamed", async () => {
    const { client, peer, path } = await connectedPair("unix");
    const clientConn = new StreamConnection(client, { remote: path });
    const serverConn = new StreamConnection(peer, { local: path });
    expect(clientConn.remote).toBe(path);
    expect(clientConn.local).toBe("unnamed");
    expect(clientConn.remoteAddress).toBeUndefined();
    expect(serverConn.remote).toBe("unnamed");
    expect(serverConn.local).toBe(path);
    const data = randomBytes(1024 * 1024);
    await Promise.all([
      clientConn.end(data),
      serverConn.readExactly(data.length).then((got) => serverConn.write(got)),
    ]);
    expect(sha256(await clientConn.readExactly(data.length))).toBe(sha256(data));
    clientConn.destroy();
    expect(await serverConn.recv(10)).toEqual(Buffer.alloc(0));
    let err: (Error & { code?: string }) | undefined;
    for (let i = 0; i < 1000 && err === undefined; i++) {
      err = await serverConn.write("data").then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    }
    expect(["EPIPE", "ECONNRESET"]).toContain(err?.code);
    expect(err?.message).toMatch(/^Cannot send to "unnamed": /);
  });
});
