import { once } from "node:events";
import {
  AddressInUseError,
  ClosedError,
  DatagramTooLargeError,
  SocketError,
  TimeoutError,
} from "@socklab/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { bareSocket, openSocket, unusedPort } from "./_test_udp.ts";
import { createUdpSocket, type UdpDatagram } from "./udp_socket.ts";

const ONES = "1".repeat(18);

describe("createUdpSocket() binding", () => {
  test('binds "localhost" as ::1 and 127.0.0.1 on one system-picked port', async () => {
    const server = await openSocket({ host: "localhost" });
    expect(server.port).toBeGreaterThan(0);
    expect(server.local).toEqual([`udp://[::1]:${server.port}`, `udp://127.0.0.1:${server.port}`]);
  });

  test("receives over IPv4 and IPv6 with the sender's address and family", async () => {
    const server = await openSocket({ host: "localhost" });
    const v4 = await bareSocket("127.0.0.1");
    const v6 = await bareSocket("::1");
    v4.socket.send("over ipv4", server.port, "127.0.0.1");
    const first = await server.receive();
    v6.socket.send("over ipv6", server.port, "::1");
    const second = await server.receive();
    expect(first).toEqual({
      data: Buffer.from("over ipv4"),
      from: { host: "127.0.0.1", port: v4.port, family: 4 },
      local: `udp://127.0.0.1:${server.port}`,
    });
    expect(second).toEqual({
      data: Buffer.from("over ipv6"),
      from: { host: "::1", port: v6.port, family: 6 },
      local: `udp://[::1]:${server.port}`,
    });
  });

  test("reply() answers each sender from the address its datagram arrived on", async () => {
    const server = await openSocket({ host: "localhost" });
    for (const host of ["::1", "127.0.0.1"]) {
      const peer = await bareSocket(host);
      peer.socket.send("ping", server.port, host);
      const datagram = (await server.receive())!;
      const answered = once(peer.socket, "message");
      await server.reply(datagram, "pong");
      const [data, rinfo] = await answered;
      expect([data.toString(), rinfo.address, rinfo.port]).toEqual(["pong", host, server.port]);
    }
  });

  test('"" binds one dual-stack socket that shows IPv4 senders as IPv4 and answers them', async () => {
    const server = await openSocket({ host: "" });
    expect(server.local).toEqual([`udp://[::]:${server.port}`]);
    const peer = await bareSocket("127.0.0.1");
    peer.socket.send(ONES, server.port, "127.0.0.1");
    const datagram = (await server.receive())!;
    expect(datagram.from).toEqual({ host: "127.0.0.1", port: peer.port, family: 4 });
    const echoed = once(peer.socket, "message");
    await server.reply(datagram, "back");
    const [data, rinfo] = await echoed;
    expect(data.toString()).toBe("back");
    expect(rinfo.port).toBe(server.port);
  });

  test('family "ipv4" binds only 127.0.0.1 for "localhost"', async () => {
    const server = await openSocket({ host: "localhost", family: "ipv4" });
    expect(server.local).toEqual([`udp://127.0.0.1:${server.port}`]);
  });

  test('family "ipv6" on "" binds an IPv6-only wildcard', async () => {
    const server = await openSocket({ host: "", family: "ipv6" });
    expect(server.local).toEqual([`udp://[::]:${server.port}`]);
    await expect(server.send("x", `127.0.0.1:${server.port}`)).rejects.toThrow(
      `Cannot send to "127.0.0.1:${server.port}": this socket is bound to IPv6 only (udp://[::]:${server.port}) and the host has no IPv6 address`,
    );
  });

  test("refuses a taken port with one line naming the address", async () => {
    const first = await openSocket({ host: "127.0.0.1" });
    const err = await createUdpSocket({ host: "127.0.0.1", port: first.port }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AddressInUseError);
    expect((err as Error).message).toBe(
      `Cannot bind "127.0.0.1:${first.port}": address already in use`,
    );
  });

  test('binding "localhost" on a port taken on IPv4 only fails and leaves nothing bound on ::1', async () => {
    const taken = await bareSocket("127.0.0.1");
    await expect(createUdpSocket({ host: "localhost", port: taken.port })).rejects.toThrow(
      `Cannot bind "127.0.0.1:${taken.port}": address already in use`,
    );
    const again = await openSocket({ host: "::1", port: taken.port });
    expect(again.local).toEqual([`udp://[::1]:${taken.port}`]);
  });

  test("rejects bad options with a coded RangeError or TypeError", async () => {
    await expect(createUdpSocket({ port: 70000 })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_INVALID_PORT",
    });
    await expect(createUdpSocket({ family: "ipx" as never })).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_SOCKLAB_INVALID_OPTION",
    });
    await expect(createUdpSocket({ maxQueued: 0 })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_INVALID_OPTION",
    });
  });
});

describe("UdpSocket sizes", () => {
  test("a 65,507-byte datagram arrives whole over IPv4; 65,508 bytes are refused before sending", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ host: "127.0.0.1" });
    const payload = Buffer.alloc(65_507, 0x61);
    payload[65_506] = 0x7a;
    await client.send(payload, `127.0.0.1:${server.port}`);
    const datagram = (await server.receive({ timeoutMs: 5000 }))!;
    expect(datagram.data.length).toBe(65_507);
    expect(datagram.data.equals(payload)).toBe(true);

    const err = await client
      .send(Buffer.alloc(65_508), `127.0.0.1:${server.port}`)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatagramTooLargeError);
    expect((err as Error).message).toBe(
      "Cannot send 65508 bytes in one UDP/IPv4 datagram: the limit is 65507 bytes",
    );
    expect(client.stats).toMatchObject({ datagramsSent: 1, bytesSent: 65_507, failed: 1 });
  });

  test("a 65,527-byte datagram arrives whole over IPv6; 65,528 bytes are refused", async () => {
    const server = await openSocket({ host: "::1" });
    const client = await openSocket({ host: "::1" });
    const payload = Buffer.alloc(65_527, 0x62);
    await client.send(payload, `[::1]:${server.port}`);
    const datagram = (await server.receive({ timeoutMs: 5000 }))!;
    expect(datagram.data.equals(payload)).toBe(true);
    await expect(client.send(Buffer.alloc(65_528), `[::1]:${server.port}`)).rejects.toThrow(
      "Cannot send 65528 bytes in one UDP/IPv6 datagram: the limit is 65527 bytes",
    );
  });

  test("a dual-stack socket applies the IPv4 limit to IPv4 peers", async () => {
    const client = await openSocket({ host: "" });
    await expect(client.send(Buffer.alloc(65_508), "127.0.0.1:9")).rejects.toBeInstanceOf(
      DatagramTooLargeError,
    );
  });

  test("any payload round-trips byte for byte (property)", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ connect: `127.0.0.1:${server.port}`, probeMs: 0 });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        await client.send(bytes);
        const datagram = (await server.receive({ timeoutMs: 2000 }))!;
        expect(new Uint8Array(datagram.data)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });
});

describe("UdpSocket.send()", () => {
  test('sends to "localhost:PORT" on its first address the socket can use (::1)', async () => {
    const server = await openSocket({ host: "localhost" });
    const client = await openSocket({ host: "" });
    await client.send(ONES, `localhost:${server.port}`);
    const datagram = (await server.receive())!;
    expect(datagram.local).toBe(`udp://[::1]:${server.port}`);
    expect(datagram.data.toString()).toBe(ONES);
  });

  test("rejects bad destinations and data with coded errors", async () => {
    const client = await openSocket({ host: "127.0.0.1" });
    await expect(client.send("x", "127.0.0.1:0")).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_INVALID_PORT",
      message: 'Cannot send to "127.0.0.1:0": port 0 is not a destination',
    });
    await expect(client.send("x")).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_SOCKLAB_NO_DESTINATION",
    });
    await expect(client.send(42 as never, "127.0.0.1:9")).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_SOCKLAB_INVALID_DATA",
    });
    await expect(client.send("x", "tcp://127.0.0.1:9")).rejects.toThrow(
      /a UDP socket sends to udp:\/\/HOST:PORT/,
    );
  });

  test("counts datagrams and bytes both ways", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ host: "127.0.0.1" });
    await client.send("abc", { host: "127.0.0.1", port: server.port });
    await client.send("defgh", { host: "127.0.0.1", port: server.port });
    await server.receive();
    await server.receive();
    expect(client.stats).toEqual({
      datagramsSent: 2,
      bytesSent: 8,
      datagramsReceived: 0,
      bytesReceived: 0,
      failed: 0,
      refused: 0,
      dropped: 0,
      kernelDropped: process.platform === "linux" ? 0 : undefined,
    });
    expect(server.stats).toMatchObject({ datagramsReceived: 2, bytesReceived: 8, dropped: 0 });
  });
});

describe("connected UdpSocket", () => {
  test('reports "port unreachable" as one line: connection refused (nobody is listening)', async () => {
    const port = await unusedPort();
    const client = await openSocket({ connect: `127.0.0.1:${port}` });
    const err = await client.send(ONES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocketError);
    expect(err).toMatchObject({
      code: "ECONNREFUSED",
      message: `Cannot send to "127.0.0.1:${port}": connection refused (nobody is listening)`,
    });
    expect(client.stats).toMatchObject({ datagramsSent: 1, refused: 1 });
  });

  test('"localhost" reaches a peer bound to 127.0.0.1 only, after ::1 refuses', async () => {
    const peer = await bareSocket("127.0.0.1");
    const client = await openSocket({ connect: `localhost:${peer.port}` });
    const arrived = once(peer.socket, "message");
    await client.send(ONES);
    const [data, rinfo] = await arrived;
    expect(data.toString()).toBe(ONES);
    expect(rinfo.port).toBe(client.port);
    expect(client.remote).toBe(`127.0.0.1:${peer.port}`);
    expect(client.local).toEqual([`udp://127.0.0.1:${client.port}`]);
    expect(client.stats).toMatchObject({ datagramsSent: 2, refused: 1 });
  });

  test('"localhost" with nobody on either address names both', async () => {
    const port = await unusedPort("::1");
    const client = await openSocket({ connect: `localhost:${port}` });
    await expect(client.send(ONES)).rejects.toThrow(
      `Cannot send to "localhost:${port}": connection refused (nobody is listening on [::1]:${port} or 127.0.0.1:${port})`,
    );
  });

  test("a refusal after the first datagram is reported once, on the next receive", async () => {
    const server = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    const client = await openSocket({ connect: `127.0.0.1:${server.port}` });
    const first = client.send("one");
    await server.receive(); // the first datagram arrived: the peer is there
    await first;
    await server.close();
    await client.send("two"); // goes out; the kernel answers "port unreachable"
    const err = await client.receive({ timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "ECONNREFUSED",
      message: `Cannot send to "127.0.0.1:${server.port}": connection refused (nobody is listening)`,
    });
    expect(client.stats.refused).toBe(1);
  });

  test("only the peer's datagrams arrive; send takes no destination", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({
      connect: { host: "127.0.0.1", port: server.port },
      probeMs: 0,
    });
    const stranger = await bareSocket("127.0.0.1");
    stranger.socket.send("not for you", client.port, "127.0.0.1");
    await client.send("hello");
    const hello = (await server.receive())!;
    await server.reply(hello, "hi");
    const reply = (await client.receive())!;
    expect(reply.data.toString()).toBe("hi");
    expect(reply.from).toEqual({ host: "127.0.0.1", port: server.port, family: 4 });
    await expect(client.send("x", "127.0.0.1:9")).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_SOCKLAB_CONNECTED",
    });
  });
});

describe("UdpSocket.request()", () => {
  async function echoServer(host: string, { skip = 0 } = {}) {
    const server = await openSocket({ host });
    const seen: UdpDatagram[] = [];
    void (async () => {
      for await (const datagram of server) {
        seen.push(datagram);
        if (seen.length > skip) await server.reply(datagram, datagram.data);
      }
    })();
    return { server, seen };
  }

  test("an echo round trip answers on the first attempt", async () => {
    const { server } = await echoServer("127.0.0.1");
    const client = await openSocket({ connect: `127.0.0.1:${server.port}` });
    const result = await client.request(ONES, undefined, { timeoutMs: 2000 });
    expect(result.reply.data.toString()).toBe(ONES);
    expect(result).toMatchObject({ attempts: 1, lost: 0 });
  });

  test("an unconnected socket matches the reply to the peer over IPv6", async () => {
    const { server } = await echoServer("::1");
    const client = await openSocket({ host: "::1" });
    const result = await client.request("ping", `[::1]:${server.port}`, { timeoutMs: 2000 });
    expect(result.reply.from).toEqual({ host: "::1", port: server.port, family: 6 });
  });

  test("retries after a lost datagram and reports it", async () => {
    const { server, seen } = await echoServer("127.0.0.1", { skip: 1 });
    const client = await openSocket({ host: "127.0.0.1" });
    const result = await client.request("again", `127.0.0.1:${server.port}`, {
      timeoutMs: 300,
      retries: 2,
    });
    expect(result).toMatchObject({ attempts: 2, lost: 1 });
    expect(seen).toHaveLength(2);
  });

  test("reports loss when nobody answers: how many were sent and lost", async () => {
    const silent = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ host: "127.0.0.1" });
    const err = await client
      .request(ONES, `127.0.0.1:${silent.port}`, { timeoutMs: 30, retries: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe(
      `No reply from "127.0.0.1:${silent.port}" after 3 attempts (3 datagrams lost or unanswered)`,
    );
    for (let i = 0; i < 3; i++) expect((await silent.receive())!.data.toString()).toBe(ONES);
    expect(client.stats.datagramsSent).toBe(3);
  });

  test("a connected request to a port nobody listens on fails at once as refused", async () => {
    const port = await unusedPort();
    const client = await openSocket({ connect: `127.0.0.1:${port}` });
    await expect(client.request("ping", undefined, { timeoutMs: 10_000 })).rejects.toThrow(
      `Cannot send to "127.0.0.1:${port}": connection refused (nobody is listening)`,
    );
  });

  test("match() skips datagrams the protocol does not recognise; they stay for the reader", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ host: "127.0.0.1" });
    void (async () => {
      const request = (await server.receive())!;
      await server.reply(request, "noise");
      await server.reply(request, "id=7 ok");
    })();
    const { reply } = await client.request("id=7", `127.0.0.1:${server.port}`, {
      timeoutMs: 2000,
      match: (d) => d.data.toString().startsWith("id=7"),
    });
    expect(reply.data.toString()).toBe("id=7 ok");
    expect((await client.receive())!.data.toString()).toBe("noise");
  });

  test("a match() that throws fails its request; the datagram stays for the reader", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ host: "127.0.0.1" });
    void server.receive().then((request) => server.reply(request!, "reply"));
    const failed = client.request("x", `127.0.0.1:${server.port}`, {
      timeoutMs: 5000,
      match: () => {
        throw new Error("bad matcher");
      },
    });
    await expect(failed).rejects.toThrow("bad matcher");
    expect((await client.receive())!.data.toString()).toBe("reply");
  });

  test("an abort signal stops the wait", async () => {
    const silent = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ host: "127.0.0.1" });
    const controller = new AbortController();
    const pending = client.request("x", `127.0.0.1:${silent.port}`, {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    await silent.receive();
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });
});

describe("UdpSocket receiving", () => {
  test("a slow reader loses the newest datagrams beyond the queue, counted as dropped", async () => {
    const server = await openSocket({ host: "127.0.0.1", maxQueued: 4 });
    const client = await openSocket({ connect: `127.0.0.1:${server.port}`, probeMs: 0 });
    for (let i = 0; i < 10; i++) await client.send(`#${i}`);
    // Nobody reads while all ten arrive (no event marks "arrived but not read": watch the counter).
    await expect.poll(() => server.stats.datagramsReceived, { interval: 1 }).toBe(10);
    const read: string[] = [];
    for (let i = 0; i < 4; i++) read.push((await server.receive())!.data.toString());
    await client.send("last");
    read.push((await server.receive())!.data.toString());
    expect(read).toEqual(["#0", "#1", "#2", "#3", "last"]);
    expect(server.stats).toMatchObject({ datagramsReceived: 11, dropped: 6 });
  });

  test("receive() times out with a TimeoutError", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    await expect(server.receive({ timeoutMs: 20 })).rejects.toThrow(
      `Cannot receive on "udp://127.0.0.1:${server.port}": nothing arrived within 20 ms`,
    );
  });

  test("close() ends a for-await loop, is idempotent, and later sends fail with ClosedError", async () => {
    const server = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    const got: string[] = [];
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => {
      firstArrived = resolve;
    });
    const loop = (async () => {
      for await (const d of server) {
        got.push(d.data.toString());
        firstArrived();
      }
      return "ended";
    })();
    const client = await openSocket({ connect: `127.0.0.1:${server.port}`, probeMs: 0 });
    await client.send("one");
    await arrived;
    await Promise.all([server.close(), server.close()]);
    await expect(loop).resolves.toBe("ended");
    expect(got).toEqual(["one"]);
    expect(server.closed).toBe(true);
    await expect(server.receive()).resolves.toBeUndefined();
    await expect(server.send("x", "127.0.0.1:9")).rejects.toBeInstanceOf(ClosedError);
  });

  test("close() rejects a pending request with ClosedError", async () => {
    const silent = await openSocket({ host: "127.0.0.1" });
    const client = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    const pending = client.request("x", `127.0.0.1:${silent.port}`, { timeoutMs: 10_000 });
    await silent.receive();
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(ClosedError);
  });

  test("breaking out of a loop keeps the socket open for the next one", async () => {
    const server = await openSocket({ host: "127.0.0.1" });
    const client = await openSocket({ connect: `127.0.0.1:${server.port}`, probeMs: 0 });
    await client.send("a");
    for await (const d of server) {
      expect(d.data.toString()).toBe("a");
      break;
    }
    await client.send("b");
    for await (const d of server) {
      expect(d.data.toString()).toBe("b");
      break;
    }
  });
});

describe("UdpSocket.onDatagram() and replyNow()", () => {
  test("echo every datagram as it arrives, and count the replies", async () => {
    const server = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    const client = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    try {
      const stop = server.onDatagram((datagram) => server.replyNow(datagram, datagram.data));
      for (let i = 0; i < 20; i++) {
        const payload = Buffer.from(`postcard ${i}`);
        const { reply } = await client.request(payload, `127.0.0.1:${server.port}`, {
          timeoutMs: 2000,
        });
        expect(reply.data.equals(payload)).toBe(true);
      }
      expect(server.stats).toMatchObject({ datagramsReceived: 20, datagramsSent: 20, failed: 0 });
      stop();
      await client.send("queued again", `127.0.0.1:${server.port}`);
      expect((await server.receive({ timeoutMs: 2000 }))?.data.toString()).toBe("queued again");
    } finally {
      await client.close();
      await server.close();
    }
  });

  test("replyNow() reports a datagram too large to its error handler, once", async () => {
    const server = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    const client = await createUdpSocket({ host: "127.0.0.1", port: 0 });
    try {
      const errors: Error[] = [];
      const answered = new Promise<void>((resolve) =>
        server.onDatagram(
          (datagram) => {
            server.replyNow(datagram, Buffer.alloc(65_508));
            resolve();
          },
          (err) => errors.push(err),
        ),
      );
      await client.send("x", `127.0.0.1:${server.port}`);
      await answered;
      expect(errors.map((e) => e.message)).toEqual([
        "Cannot send 65508 bytes in one UDP/IPv4 datagram: the limit is 65507 bytes",
      ]);
      expect(server.stats.failed).toBe(1);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
