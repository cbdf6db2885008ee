import type * as net from "node:net";
import {
  hasIpv6Loopback,
  type ResolvedAddress,
  SocketError,
  StreamConnection,
  TimeoutError,
} from "@socklab/core";
import { describe, expect, onTestFinished, test } from "vitest";
import { dialTcp, openConnection } from "./_connect.ts";
import type { Attempt } from "./_happy_eyeballs.ts";
import { listen } from "./_test_server.ts";

const ipv6 = hasIpv6Loopback();

/** Dials that never connect (a dropped SYN), recording what was started and cancelled. */
function hangingDialer() {
  const started: string[] = [];
  const cancelled: string[] = [];
  const dial = (target: ResolvedAddress): Attempt<net.Socket> => {
    started.push(target.address);
    return {
      promise: new Promise<net.Socket>(() => {}),
      cancel: () => cancelled.push(target.address),
    };
  };
  return { dial, started, cancelled };
}

function failingDial(codes: Record<string, string>) {
  return (target: ResolvedAddress): Attempt<net.Socket> => {
    const code = codes[target.address] ?? "ECONNREFUSED";
    return {
      promise: Promise.reject(
        Object.assign(new Error(`connect ${code}`), { code, syscall: "connect" }),
      ),
      cancel: () => {},
    };
  };
}

describe("openConnection() with stand-in connects", () => {
  test.runIf(ipv6)(
    "the timeout covers the whole attempt and names every address tried",
    async () => {
      const { dial, started, cancelled } = hangingDialer();
      const err = await openConnection(
        { host: "localhost", port: 50000, timeoutMs: 100, attemptDelayMs: 20 },
        dial,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).toMatchObject({ code: "ETIMEDOUT", timeoutMs: 100 });
      expect((err as Error).message).toBe(
        'Cannot connect to "localhost:50000": timed out after 100 ms (tried ::1, 127.0.0.1)',
      );
      expect(started).toEqual(["::1", "127.0.0.1"]);
      expect(cancelled.sort()).toEqual(["127.0.0.1", "::1"]);
    },
  );

  test("a timeout connecting to one literal address says only how long", async () => {
    const { dial } = hangingDialer();
    await expect(
      openConnection({ host: "127.0.0.1", port: 50000, timeoutMs: 30 }, dial),
    ).rejects.toThrow(/^Cannot connect to "127\.0\.0\.1:50000": timed out after 30 ms$/);
  });

  test("timeoutMs 0 waits until the signal stops it", async () => {
    const { dial, cancelled } = hangingDialer();
    const controller = new AbortController();
    const pending = openConnection(
      { host: "127.0.0.1", port: 50000, timeoutMs: 0, signal: controller.signal },
      dial,
    );
    const reason = new Error("user stop");
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    expect(cancelled).toEqual(["127.0.0.1"]);
  });

  test.runIf(ipv6)("different failures per address are listed one by one", async () => {
    const err = await openConnection(
      { host: "localhost", port: 50000 },
      failingDial({ "::1": "ENETUNREACH", "127.0.0.1": "ECONNREFUSED" }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocketError);
    // The refusal tells the most: the host was reached.
    expect(err).toMatchObject({ code: "ECONNREFUSED", syscall: "connect", port: 50000 });
    expect((err as Error).message).toBe(
      'Cannot connect to "localhost:50000": [::1]: network unreachable; 127.0.0.1: connection refused (nobody is listening)',
    );
    expect((err as Error).cause).toBeInstanceOf(AggregateError);
  });

  test("a connect the kernel timed out is a TimeoutError", async () => {
    const err = await openConnection(
      { host: "127.0.0.1", port: 50000 },
      failingDial({ "127.0.0.1": "ETIMEDOUT" }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('Cannot connect to "127.0.0.1:50000": timed out');
  });

  test.runIf(ipv6)("a silent ::1 loses to 127.0.0.1 after the attempt delay", async () => {
    const srv = await listen("127.0.0.1");
    const cancelled: string[] = [];
    const began = performance.now();
    const conn = await openConnection(
      { host: "localhost", port: srv.port, attemptDelayMs: 100 },
      (target) => {
        if (target.family === 4) return dialTcp(target, srv.port, undefined);
        return {
          promise: new Promise<net.Socket>(() => {}),
          cancel: () => cancelled.push(target.address),
        };
      },
    );
    onTestFinished(() => conn.destroy());
    expect(performance.now() - began).toBeGreaterThanOrEqual(99);
    expect(conn).toBeInstanceOf(StreamConnection);
    expect(conn.remote).toBe(`127.0.0.1:${srv.port}`);
    expect(cancelled).toEqual(["::1"]);
  });

  test.runIf(ipv6)("::1 connecting at once: 127.0.0.1 is never dialled", async () => {
    const v6 = await listen("::1");
    const dialled: string[] = [];
    const conn = await openConnection({ host: "localhost", port: v6.port }, (target) => {
      dialled.push(target.address);
      return dialTcp(target, v6.port, undefined);
    });
    onTestFinished(() => conn.destroy());
    expect(dialled).toEqual(["::1"]);
  });
});
