import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { requireTools, startTutorialServer } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { type CliProcess, runCli, startCli, startServer } from "../_test_cli.ts";

const ONES = "1".repeat(18);

/** Starts `socklab udp-server args…` on a system-picked port; stopped when the test ends. */
async function udpServer(args: readonly string[] = []): Promise<CliProcess & { port: number }> {
  const server = await startServer(["udp-server", "--port", "0", ...args]);
  onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
  return Object.assign(server, { port: Number(/:(\d+)$/.exec(server.address)![1]) });
}

/** A bare dgram socket that records what arrives, closed when the test ends. */
async function receiver(
  host = "127.0.0.1",
): Promise<{ port: number; next(): Promise<[Buffer, dgram.RemoteInfo]> }> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  const queue: [Buffer, dgram.RemoteInfo][] = [];
  const waiting: ((m: [Buffer, dgram.RemoteInfo]) => void)[] = [];
  socket.on("message", (data: Buffer, rinfo: dgram.RemoteInfo) => {
    const w = waiting.shift();
    if (w) w([data, rinfo]);
    else queue.push([data, rinfo]);
  });
  socket.bind(0, host);
  await once(socket, "listening");
  onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return {
    port: socket.address().port,
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : new Promise((resolve) => waiting.push(resolve)),
  };
}

/** A port nothing is bound to: picked by the system for a socket that is closed again. */
async function unusedPort(): Promise<number> {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe("socklab udp-client", () => {
  test("reaches the tutorial's Python server (listing 3.4, bound to 127.0.0.1 only) with the default host localhost", async () => {
    const { python, port } = await startTutorialServer("3.4 udp server");
    onTestFinished(() => python.kill());
    const result = await runCli(["udp-client", "--port", String(port)]);
    const [line] = await python.waitForLine(/^Daten .*$/);
    const clientPort = /from port (\d+)/.exec(result.stdout)?.[1];
    expect(line).toBe(`Daten ${ONES} von 127.0.0.1 ${clientPort}`);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(`sent 18 bytes to 127.0.0.1:${port} (from port ${clientPort})\n`);
  });

  test("shows the tutorial's exchange with socklab udp-server --once", async () => {
    const server = await udpServer(["--once"]);
    const client = await runCli(["udp-client", "--port", String(server.port)]);
    expect(client.code).toBe(0);
    const clientPort = /from port (\d+)/.exec(client.stdout)![1];
    expect(client.stdout).toBe(`sent 18 bytes to [::1]:${server.port} (from port ${clientPort})\n`);
    const result = await server.result;
    expect(result.code).toBe(0);
    expect(server.lines).toContain(`datagram from [::1]:${clientPort} (18 bytes): ${ONES}`);
  });

  test("--wait-reply prints each echo and a loss report", async () => {
    const server = await udpServer(["--echo", "--quiet"]);
    const result = await runCli([
      "udp-client",
      "--port",
      String(server.port),
      "--count",
      "3",
      "--wait-reply",
      "2s",
      "--message",
      "ping",
    ]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(
      `${`reply from [::1]:${server.port} (4 bytes): ping\n`.repeat(3)}sent 3, replies 3, lost 0\n`,
    );
  });

  test("reports loss when nobody answers, counting retries, and exits 1", async () => {
    const silent = await receiver();
    const result = await runCli([
      "udp-client",
      "--host",
      "127.0.0.1",
      "--port",
      String(silent.port),
      "-n",
      "2",
      "-w",
      "30ms",
      "-r",
      "1",
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `${`No reply from "127.0.0.1:${silent.port}" after 2 attempts (2 datagrams lost or unanswered)\n`.repeat(2)}sent 4, replies 0, lost 4\n`,
    );
    for (let i = 0; i < 4; i++) expect((await silent.next())[0].toString()).toBe(ONES);
  });

  test("--json reports sent datagrams and the summary as events", async () => {
    const server = await udpServer(["--echo", "--quiet", "--host", "127.0.0.1"]);
    const result = await runCli([
      "udp-client",
      "--json",
      "-H",
      "127.0.0.1",
      "-p",
      String(server.port),
      "-w",
      "2s",
    ]);
    const events = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({
      event: "reply",
      from: `127.0.0.1:${server.port}`,
      bytes: 18,
      text: ONES,
      attempts: 1,
    });
    expect(events[1]).toMatchObject({
      event: "summary",
      sent: 1,
      replies: 1,
      lost: 0,
      unanswered: 0,
    });
  });

  test("nobody listening on either localhost address is one line and exit code 1", async () => {
    const port = await unusedPort();
    const result = await runCli(["udp-client", "--port", String(port)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `socklab udp-client: Cannot send to "localhost:${port}": connection refused (nobody is listening on [::1]:${port} or 127.0.0.1:${port})\n`,
    );
  });

  test("--message reads escapes and sends the bytes exactly; --count and --interval send in order", async () => {
    const peer = await receiver();
    const result = await runCli([
      "udp-client",
      "-H",
      "127.0.0.1",
      "-p",
      String(peer.port),
      "-m",
      "a\\tb\\xff\\r\\n",
      "-n",
      "3",
      "-i",
      "5ms",
    ]);
    expect(result.code).toBe(0);
    for (let i = 0; i < 3; i++)
      expect((await peer.next())[0]).toEqual(Buffer.from([0x61, 0x09, 0x62, 0xff, 0x0d, 0x0a]));
  });

  test("65,507 bytes arrive whole at udp-server; 65,508 are refused before sending", async () => {
    const server = await udpServer(["--json", "--host", "127.0.0.1"]);
    const whole = await runCli([
      "udp-client",
      "-H",
      "127.0.0.1",
      "-p",
      String(server.port),
      "-m",
      "x".repeat(65_507),
    ]);
    expect(whole.code).toBe(0);
    const [line] = await server.waitForLine(/^\{"event":"datagram".*$/);
    expect(JSON.parse(line)).toMatchObject({ bytes: 65_507, text: "x".repeat(65_507) });
    const tooBig = await runCli([
      "udp-client",
      "-H",
      "127.0.0.1",
      "-p",
      String(server.port),
      "-m",
      "x".repeat(65_508),
    ]);
    expect(tooBig).toMatchObject({
      code: 1,
      stdout: "",
      stderr:
        "socklab udp-client: Cannot send 65508 bytes in one UDP/IPv4 datagram: the limit is 65507 bytes\n",
    });
  });

  test("nc -u -l gets the eighteen 1s", async ({ skip }) => {
    requireTools(skip, "nc");
    const nc = spawn("nc", ["-n", "-v", "-u", "-l", "127.0.0.1", "0"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    onTestFinished(async () => {
      if (nc.exitCode === null && nc.signalCode === null) {
        nc.kill("SIGKILL");
        await once(nc, "close");
      }
    });
    const [bound] = (await once(createInterface({ input: nc.stderr }), "line")) as [string];
    const port = /^Bound on 127\.0\.0\.1 (\d+)$/.exec(bound)![1]!;
    let received = "";
    const arrived = new Promise<void>((resolve) => {
      nc.stdout.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if (received.length >= 18) resolve();
      });
    });
    const result = await runCli(["udp-client", "--port", port]);
    await arrived;
    expect(result.code).toBe(0);
    expect(received).toBe(ONES);
  });

  test("SIGTERM between datagrams stops it with exit code 0", async () => {
    const peer = await receiver();
    const client = startCli([
      "udp-client",
      "-H",
      "127.0.0.1",
      "-p",
      String(peer.port),
      "-n",
      "5",
      "-i",
      "1m",
    ]);
    onTestFinished(() => client.stop("SIGKILL").then(() => undefined));
    await client.waitForLine(/^sent 18 bytes/);
    const result = await client.stop("SIGTERM");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(client.lines).toHaveLength(1);
  });

  test("bad options are usage errors (exit code 2)", async () => {
    const [badEscape, retries, count] = await Promise.all([
      runCli(["udp-client", "--message", "\\q"]),
      runCli(["udp-client", "--retries", "2"]),
      runCli(["udp-client", "--count", "0"]),
    ]);
    expect(badEscape.code).toBe(2);
    expect(badEscape.stderr).toMatch(/^socklab udp-client: Cannot read escape "\\q" at position 0/);
    expect(retries).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /^socklab udp-client: Cannot use --retries without --wait-reply\n/,
      ),
    });
    expect(count.code).toBe(2);
  });
});
