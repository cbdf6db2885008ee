import { createServer, type Server } from "node:net";
import { describe, expect, test } from "vitest";
import { AddressInUseError } from "./errors.ts";
import { bindOnOnePort, type ListenPlan, planListen } from "./listen_plan.ts";
import { hasIpv6Loopback } from "./resolve_host.ts";
import { toSocketError } from "./system_error.ts";

function listen(plan: ListenPlan, port: number): Promise<{ handle: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err) =>
      reject(toSocketError(err, { action: "bind", address: `${plan.address}:${port}` })),
    );
    server.listen({ host: plan.address, port, ipv6Only: !plan.dual }, () =>
      resolve({ handle: server, port: (server.address() as { port: number }).port }),
    );
  });
}
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

describe("planListen()", () => {
  test("localhost means every loopback address", async () => {
    const plans = await planListen("localhost");
    expect(plans.map((p) => p.address)).toEqual(
      hasIpv6Loopback() ? ["::1", "127.0.0.1"] : ["127.0.0.1"],
    );
  });
  test("the empty host is one dual-stack socket, or one family when asked", async () => {
    if (hasIpv6Loopback())
      expect(await planListen("")).toEqual([{ address: "::", family: 6, dual: true }]);
    expect(await planListen("", "ipv4")).toEqual([{ address: "0.0.0.0", family: 4, dual: false }]);
    expect(await planListen("0.0.0.0")).toEqual([{ address: "0.0.0.0", family: 4, dual: false }]);
  });
  test("a family filter keeps one loopback", async () => {
    expect(await planListen("localhost", "ipv4")).toEqual([
      { address: "127.0.0.1", family: 4, dual: false },
    ]);
  });
});

describe("bindOnOnePort()", () => {
  test("binds localhost's addresses on one system-picked port", async () => {
    const plans = await planListen("localhost");
    const servers = await bindOnOnePort(plans, 0, listen, close);
    const ports = servers.map((s) => (s.address() as { port: number }).port);
    expect(new Set(ports).size).toBe(1);
    expect(ports[0]).toBeGreaterThan(0);
    await Promise.all(servers.map(close));
  });
  test("starts over when the picked port is taken on a later address", async () => {
    if (!hasIpv6Loopback()) return;
    const blockers: Server[] = [];
    let calls = 0;
    const servers = await bindOnOnePort(
      await planListen("localhost"),
      0,
      async (plan, port) => {
        calls += 1;
        if (calls === 2) {
          // Take the port on 127.0.0.1 first, as another program might.
          const { handle } = await listen({ address: "127.0.0.1", family: 4, dual: false }, port);
          blockers.push(handle);
        }
        return listen(plan, port);
      },
      close,
    );
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(servers).toHaveLength(2);
    await Promise.all([...servers, ...blockers].map(close));
  });
  test("a fixed port in use is one clear error, nothing left bound", async () => {
    const { handle: blocker, port } = await listen(
      { address: "127.0.0.1", family: 4, dual: false },
      0,
    );
    const attempt = bindOnOnePort(
      [{ address: "127.0.0.1", family: 4, dual: false }],
      port,
      listen,
      close,
    );
    await expect(attempt).rejects.toBeInstanceOf(AddressInUseError);
    await close(blocker);
  });
});
