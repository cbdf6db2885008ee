import { createSocket } from "node:dgram";
import { once } from "node:events";
import { createServer } from "node:net";
import { runPython } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { runCli, startCli } from "../_test_cli.ts";

async function openPort(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function closedUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe("socklab scan", () => {
  test("prints one line per port in the order given and exits 0 when one is open", async () => {
    const open = await openPort();
    const closed = await closedPort();
    const r = await runCli(["scan", "127.0.0.1", `${closed},${open},${closed}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${closed}/tcp closed\n${open}/tcp open\n`);
    expect(r.stderr).toMatch(/^scanned 2 tcp ports on 127\.0\.0\.1 in \d+ ms: 1 open, 1 closed\n$/);
  });

  test("--open prints only open ports; none open is exit code 1, as nc -z", async () => {
    const open = await openPort();
    const closed = await closedPort();
    const some = await runCli(["scan", "--open", "127.0.0.1", `${closed},${open}`]);
    expect(some.code).toBe(0);
    expect(some.stdout).toBe(`${open}/tcp open\n`);
    const none = await runCli(["scan", "--open", "--quiet", "127.0.0.1", String(closed)]);
    expect(none).toMatchObject({ code: 1, stdout: "", stderr: "" });
  });

  test("--json prints a port event per port and a done event with the counts", async () => {
    const open = await openPort();
    const closed = await closedPort();
    const r = await runCli(["scan", "--json", "[127.0.0.1]", `${open},${closed}`]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events).toEqual([
      expect.objectContaining({
        event: "port",
        host: "127.0.0.1",
        address: "127.0.0.1",
        protocol: "tcp",
        port: open,
        state: "open",
      }),
      expect.objectContaining({
        event: "port",
        port: closed,
        state: "closed",
        error: "ECONNREFUSED",
      }),
      expect.objectContaining({ event: "done", ports: 2, open: 1, closed: 1, filtered: 0 }),
    ]);
    expect(typeof events[0].ms).toBe("number");
    expect(r.stderr).toBe("");
  });

  test("-u finds a Python UDP echo open and a free UDP port closed by ICMP", async () => {
    const py = runPython(
      "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('127.0.0.1',0))\nprint(s.getsockname()[1],flush=True)\nwhile True:\n  d,a=s.recvfrom(2048)\n  s.sendto(d,a)",
    );
    onTestFinished(() => py.kill());
    const echo = Number((await py.waitForLine(/^(\d+)$/))[1]);
    const closed = await closedUdpPort();
    const r = await runCli(["scan", "-u", "--timeout", "5s", "127.0.0.1", `${echo},${closed}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${echo}/udp open\n${closed}/udp closed\n`);
  });

  test("-u with only silence is open|filtered and exit code 1", async () => {
    const silent = createSocket("udp4");
    silent.bind(0, "127.0.0.1");
    await once(silent, "listening");
    onTestFinished(() => {
      silent.close();
    });
    const r = await runCli([
      "scan",
      "-u",
      "--timeout",
      "200ms",
      "127.0.0.1",
      String(silent.address().port),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${silent.address().port}/udp open|filtered\n`);
  });

  test("SIGTERM ends a scan at once (its sockets closed), with a note and exit code 1", async () => {
    const silent = createSocket("udp4");
    silent.bind(0, "127.0.0.1");
    await once(silent, "listening");
    onTestFinished(() => {
      silent.close();
    });
    const received = once(silent, "message");
    const cli = startCli([
      "scan",
      "-u",
      "--timeout",
      "60s",
      "127.0.0.1",
      String(silent.address().port),
    ]);
    await received; // the probe is out; the scan waits for its 60 s timeout
    const r = await cli.stop("SIGTERM");
    expect(r).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "socklab scan: stopped after 0 of 1 ports\n",
    });
  });

  test.each([
    [["127.0.0.1", "70000"], 'Cannot use port "70000": ports to scan are 1 to 65535'],
    [["127.0.0.1", "30-20"], 'Cannot use ports "30-20": the range goes backwards (30 > 20)'],
    [
      ["127.0.0.1"],
      "Cannot scan: give a host and ports, such as socklab scan 127.0.0.1 20-30,80,443",
    ],
    [["", "80"], 'Cannot scan host "": give a host name or address, such as 127.0.0.1'],
    [["--timeout", "0", "127.0.0.1", "80"], 'Cannot use --timeout "0": it must be at least 1 ms'],
    [
      ["--timeout", "soon", "127.0.0.1", "80"],
      'Cannot use --timeout "soon": expected seconds or a duration such as 500ms, 2s or 1m (at most 24 days)',
    ],
    [
      ["--concurrency", "0", "127.0.0.1", "80"],
      'Cannot use --concurrency "0": expected a whole number from 1 to 10000',
    ],
  ])("usage error for %j: one line, exit code 2", async (args, message) => {
    const r = await runCli(["scan", ...args]);
    expect(r).toMatchObject({
      code: 2,
      stdout: "",
      stderr: `socklab scan: ${message}\nRun "socklab scan --help" for usage.\n`,
    });
  });

  test("a host that does not resolve is a runtime error, exit code 1", async () => {
    const r = await runCli(["scan", "no-such-host.invalid", "80"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^socklab scan: Cannot resolve "no-such-host\.invalid": /);
  });
});
