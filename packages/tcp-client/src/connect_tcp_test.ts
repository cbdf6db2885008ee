import { once } from "node:events";
import * as net from "node:net";
import {
  AddressError,
  ClosedError,
  hasIpv6Loopback,
  IncompleteReadError,
  SocketError,
  TimeoutError,
} from "@socklab/core";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import { freedPort, listen, readAll } from "./_test_server.ts";
import { connectTcp } from "./connect_tcp.ts";

const ipv6 = hasIpv6Loopback();

async function connected(options: Parameters<typeof connectTcp>[0]) {
  const conn = await connectTcp(options);
  onTestFinished(() => conn.destroy());
  return conn;
}

describe("connectTcp() reaches servers", () => {
  test("connectTcp() connects to 127.0.0.1 and names both ends", async () => {
    const srv = await listen("127.0.0.1");
    const conn = await connected({ host: "127.0.0.1", port: srv.port });
    const peer = await srv.nextConnection();
    expect(conn.remote).toBe(`127.0.0.1:${srv.port}`);
    expect(conn.local).toBe(`127.0.0.1:${peer.remotePort}`);
    expect(conn.remoteAddress).toEqual({ address: "127.0.0.1", family: "IPv4", port: srv.port });
  });

  test.runIf(ipv6)("connectTcp() connects to [::1]", async () => {
    const srv = await listen("::1");
    const conn = await connected({ host: "::1", port: srv.port });
    expect(conn.remote).toBe(`[::1]:${srv.port}`);
    expect(conn.remoteAddress?.family).toBe("IPv6");
  });

  test("localhost reaches a server bound to 127.0.0.1 only, at once when ::1 refuses", async () => {
    const srv = await listen("127.0.0.1");
    // With a 10 s attempt delay, only "start the next at once on failure" can connect in time.
    const conn = await connected({
      host: "localhost",
      port: srv.port,
      attemptDelayMs: 10_000,
      timeoutMs: 5000,
    });
    expect(conn.remote).toBe(`127.0.0.1:${srv.port}`);
  });

  test.runIf(ipv6)("localhost reaches a server bound to ::1 only", async () => {
    const srv = await listen("::1");
    const conn = await connected({ host: "localhost", port: srv.port });
    expect(conn.remote).toBe(`[::1]:${srv.port}`);
  });

  test("localAddress 127.0.0.1 makes localhost try IPv4 only", async () => {
    const srv = await listen("127.0.0.1");
    const conn = await connected({
      host: "localhost",
      port: srv.port,
      localAddress: "127.0.0.1",
      attemptDelayMs: 10_000,
    });
    const peer = await srv.nextConnection();
    expect(peer.remoteAddress).toBe("127.0.0.1");
    expect(conn.remote).toBe(`127.0.0.1:${srv.port}`);
  });

  test.each([
    [undefined, true],
    [false, false],
  ])("noDelay %s turns Nagle's algorithm off: %s", async (noDelay, expected) => {
    // Node does not report TCP_NODELAY back, so watch the call.
    const spy = vi.spyOn(net.Socket.prototype, "setNoDelay");
    onTestFinished(() => spy.mockRestore());
    const srv = await listen("127.0.0.1");
    const conn = await connected({
      host: "127.0.0.1",
      port: srv.port,
      ...(noDelay === undefined ? {} : { noDelay }),
    });
    expect(spy.mock.contexts.at(-1)).toBe(conn.socket);
    expect(spy.mock.calls.at(-1)).toEqual([expected]);
  });
});

describe("connectTcp() gives one line for each failure", () => {
  test("a port just freed on localhost: refused, naming both addresses tried", async () => {
    const port = await freedPort();
    const err = await connectTcp({ host: "localhost", port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocketError);
    expect(err).toMatchObject({ code: "ECONNREFUSED", address: `localhost:${port}`, port });
    expect((err as Error).message).toBe(
      ipv6
        ? `Cannot connect to "localhost:${port}": connection refused (nobody is listening; tried ::1, 127.0.0.1)`
        : `Cannot connect to "localhost:${port}": connection refused (nobody is listening; tried 127.0.0.1)`,
    );
  });

  test("a port just freed on 127.0.0.1: refused, without a list for one literal address", async () => {
    const port = await freedPort();
    const err = await connectTcp({ host: "127.0.0.1", port }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `Cannot connect to "127.0.0.1:${port}": connection refused (nobody is listening)`,
    );
  });

  test.runIf(ipv6)("a refused IPv6 address is written in brackets", async () => {
    const port = await freedPort("::1");
    const err = await connectTcp({ host: "::1", port }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `Cannot connect to "[::1]:${port}": connection refused (nobody is listening)`,
    );
  });

  test("a name that does not resolve (.invalid) is an AddressError naming host and port", async () => {
    const err = await connectTcp({ host: "no-such-host.invalid", port: 80 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AddressError);
    expect(err).toMatchObject({ code: "ERR_SOCKLAB_UNRESOLVABLE" });
    expect((err as Error).message).toMatch(
      /^Cannot connect to "no-such-host\.invalid:80": name (does not resolve|resolution failed)/,
    );
  });

  test("localAddress of the wrong family is refused before connecting", async () => {
    const err = await connectTcp({ host: "127.0.0.1", port: 80, localAddress: "::1" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AddressError);
    expect((err as Error).message).toBe(
      'Cannot connect to "127.0.0.1:80" from "::1": "127.0.0.1" has no IPv6 address',
    );
  });

  test("an already aborted signal rejects with its reason", async () => {
    const reason = new Error("stop");
    await expect(
      connectTcp({ host: "127.0.0.1", port: 80, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });

  test.each([
    [{ host: "127.0.0.1", port: 0 }, "ERR_SOCKLAB_INVALID_PORT", RangeError],
    [{ host: "127.0.0.1", port: 65536 }, "ERR_SOCKLAB_INVALID_PORT", RangeError],
    [{ host: "127.0.0.1", port: 1.5 }, "ERR_SOCKLAB_INVALID_PORT", RangeError],
    [{ host: "127.0.0.1", port: 80, timeoutMs: -1 }, "ERR_SOCKLAB_INVALID_TIMEOUT", RangeError],
    [{ host: "127.0.0.1", port: 80, localAddress: "me" }, "ERR_SOCKLAB_INVALID_HOST", TypeError],
    [{ host: 42, port: 80 }, "ERR_SOCKLAB_INVALID_HOST", TypeError],
  ])("connectTcp(%o) throws %s", async (options, code, type) => {
    const err = await connectTcp(options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ code });
  });

  test("a bad host name is an AddressError", async () => {
    await expect(connectTcp({ host: "bad host", port: 80 })).rejects.toThrow(
      /^Cannot use host "bad host"/,
    );
  });
});

describe("the connection connectTcp() returns", () => {
  test("recv(), readUntil(), async iteration and half-close work on it", async () => {
    const srv = await listen("127.0.0.1", (socket) => {
      // Echo upper-cased, then close after the client's FIN.
      socket.on("data", (chunk: Buffer) => socket.write(chunk.toString("latin1").toUpperCase()));
      socket.on("end", () => socket.end("bye\n"));
    });
    const conn = await connected({ host: "localhost", port: srv.port });
    await conn.write("hello\nworld\n");
    expect((await conn.readUntil("\n", 100)).toString()).toBe("HELLO\n");
    expect((await conn.recv(3)).toString()).toBe("WOR");
    await conn.end();
    const rest: Buffer[] = [];
    for await (const chunk of conn) rest.push(chunk);
    expect(Buffer.concat(rest).toString()).toBe("LD\nbye\n");
    expect(await conn.recv(10)).toEqual(Buffer.alloc(0));
  });

  test("readToEnd() gets every byte of a large binary answer", async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7919) & 0xff;
    const srv = await listen("127.0.0.1", (socket) => socket.end(payload));
    const conn = await connected({ host: "127.0.0.1", port: srv.port });
    const got = await conn.readToEnd();
    expect(got.equals(payload)).toBe(true);
  });

  test("a server that accepts and never answers: the read times out, the connection stays usable", async () => {
    const srv = await listen("127.0.0.1");
    const conn = await connected({ host: "127.0.0.1", port: srv.port });
    const err = await conn.recv(4096, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe(
      `Cannot receive from "127.0.0.1:${srv.port}": timed out after 50 ms`,
    );
    (await srv.nextConnection()).write("late");
    expect((await conn.readExactly(4)).toString()).toBe("late");
  });

  test("the server closing mid-read gives an IncompleteReadError with the partial bytes", async () => {
    const srv = await listen("127.0.0.1", (socket) => socket.end("abc"));
    const conn = await connected({ host: "127.0.0.1", port: srv.port });
    const err = await conn.readExactly(5).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompleteReadError);
    expect(err).toBeInstanceOf(ClosedError);
    expect((err as IncompleteReadError).partial.toString()).toBe("abc");
  });

  test("the server sees what the client sent before its half-close", async () => {
    const srv = await listen("127.0.0.1");
    const conn = await connected({ host: "127.0.0.1", port: srv.port });
    const peer = await srv.nextConnection();
    const received = readAll(peer);
    await conn.end(Buffer.from([0, 1, 2, 255]));
    expect([...(await received)]).toEqual([0, 1, 2, 255]);
    peer.end();
    await once(peer, "close");
  });
});
