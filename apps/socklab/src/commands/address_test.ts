import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../_test_cli.ts";

describe("socklab address", () => {
  test("explains tcp://localhost:50000: loopback addresses, integer form, port", async () => {
    const r = await runCli(["address", "tcp://localhost:50000"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^address\s+tcp:\/\/localhost:50000$/m);
    expect(r.stdout).toMatch(/^resolves to\s+127\.0\.0\.1\s+IPv4 loopback = 2130706433$/m);
    expect(r.stdout).toMatch(/^port\s+50000 — no privileges needed to bind it$/m);
    expect(r.stderr).toBe("");
  });

  test("tells free, stale-free and not-a-socket UNIX paths apart", async () => {
    const dir = await mkdtemp(join(tmpdir(), "socklab-address-"));
    try {
      const free = await runCli(["address", `unix://${dir}/x`]);
      expect(free.code).toBe(0);
      expect(free.stdout).toMatch(/^state\s+free — nothing there/m);
      await writeFile(join(dir, "file"), "data");
      const file = await runCli(["address", `unix://${dir}/file`]);
      expect(file.stdout).toMatch(
        /^state\s+not a socket — a regular file; socklab refuses to use or delete it$/m,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("a bad port is a usage error: one line, exit code 2, no stack", async () => {
    const r = await runCli(["address", "tcp://localhost:70000"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'socklab address: Cannot use port "70000": ports are 0 to 65535 (0 lets the system pick)\nRun "socklab address --help" for usage.\n',
    );
  });

  test("a name that does not resolve is a runtime error, exit code 1", async () => {
    const r = await runCli(["address", "tcp://no-such-host.invalid:80"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^socklab address: Cannot resolve "no-such-host.invalid": name (does not resolve|resolution failed)/,
    );
  });

  test("--json prints one object", async () => {
    const r = await runCli(["address", "--json", "udp://[::1]:53"]);
    expect(r.code).toBe(0);
    const event = JSON.parse(r.stdout);
    expect(event).toMatchObject({
      event: "address",
      address: "udp://[::1]:53",
      transport: "udp",
      host: "::1",
      port: 53,
    });
  });

  test("turns the tutorial's 2130706433 into 127.0.0.1", async () => {
    const r = await runCli(["address", "2130706433"]);
    expect(r.stdout).toMatch(/^ipv4\s+127\.0\.0\.1$/m);
  });
});
