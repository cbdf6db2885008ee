import { execFile, spawn } from "node:child_process";
import dgram from "node:dgram";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { hasIpv6Loopback } from "@socklab/core";
import { hasCommand, requireTools, runPython, tutorialListing } from "@socklab/core/testing";
import { parseProcNetUdp } from "@socklab/udp";
import { describe, expect, onTestFinished, test } from "vitest";
import { type CliProcess, runCli, startServer } from "../_test_cli.ts";

const ONES = "1".repeat(18);

/** Starts `socklab udp-server args…` on a system-picked port; stopped when the test ends. */
async function udpServer(args: readonly string[] = []): Promise<CliProcess & { port: number }> {
  const server = await startServer(["udp-server", "--port", "0", ...args]);
  onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
  return Object.assign(server, { port: Number(/:(\d+)$/.exec(server.address)![1]) });
}

/** A bare dgram socket on 127.0.0.1, closed when the test ends. */
async function sender(): Promise<{ socket: dgram.Socket; port: number }> {
  const socket = dgram.createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, port: socket.address().port };
}

describe("socklab udp-server", () => {
  test("binds localhost as ::1 and 127.0.0.1 on one port and says so", async () => {
    const server = await udpServer();
    await server.waitForLine(/^listening on udp:\/\/127\.0\.0\.1:/);
    expect(server.lines.slice(0, 2)).toEqual([
      `listening on udp://[::1]:${server.port}`,
      `listening on udp://127.0.0.1:${server.port}`,
    ]);
  });

  test("prints listing 3.5's eighteen 1s with the Python sender's address and port; --once exits 0", async () => {
    const server = await udpServer(["--once"]);
    const source = tutorialListing("3.5 udp client", { port: server.port }).replace(
      "s.close()",
      "print('socklab-port', s.getsockname()[1], flush=True)\ns.close()",
    );
    const python = runPython(source);
    onTestFinished(() => python.kill());
    const [, pythonPort] = await python.waitForLine(/^socklab-port (\d+)$/);
    const result = await server.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `listening on udp://[::1]:${server.port}`,
        `listening on udp://127.0.0.1:${server.port}`,
        `datagram from 127.0.0.1:${pythonPort} (18 bytes): ${ONES}`,
        "stopped after 1 datagram (18 bytes)",
        "",
      ].join("\n"),
    );
    expect(result.stderr).toBe("");
  });

  test("prints bytes that are not UTF-8 as a Python literal and goes on", async () => {
    const server = await udpServer();
    const { socket, port } = await sender();
    socket.send(Buffer.from([0x48, 0xff, 0x00, 0x0a]), server.port, "127.0.0.1");
    await server.waitForLine(/^datagram from .* \(4 bytes\)/);
    socket.send("still here\n", server.port, "127.0.0.1");
    await server.waitForLine(/still here/);
    const result = await server.stop();
    expect(result.code).toBe(0);
    expect(server.lines.slice(2)).toEqual([
      `datagram from 127.0.0.1:${port} (4 bytes): b'H\\xff\\x00\\n'`,
      `datagram from 127.0.0.1:${port} (11 bytes): still here`,
      "stopped after 2 datagrams (15 bytes)",
    ]);
  });

  test("--echo sends each datagram back; SIGTERM stops it with exit code 0", async () => {
    const server = await udpServer(["--echo", "--quiet"]);
    const { socket } = await sender();
    for (const text of ["one", "two"]) {
      const echoed = once(socket, "message");
      socket.send(text, server.port, "127.0.0.1");
      const [data, rinfo] = (await echoed) as [Buffer, dgram.RemoteInfo];
      expect(data.toString()).toBe(text);
      expect(rinfo).toMatchObject({ address: "127.0.0.1", port: server.port });
    }
    const result = await server.stop("SIGTERM");
    expect(result).toMatchObject({ code: 0, signal: null, stderr: "" });
    expect(result.stdout).toBe(
      `listening on udp://[::1]:${server.port}\nlistening on udp://127.0.0.1:${server.port}\n`,
    );
  });

  test("--json prints one event per datagram: text when UTF-8, else base64", async () => {
    const server = await udpServer(["--json", "--host", "127.0.0.1"]);
    const { socket, port } = await sender();
    socket.send("Grüße", server.port, "127.0.0.1");
    await server.waitForLine(/"event":"datagram"/);
    socket.send(Buffer.from([0xff, 0xfe]), server.port, "127.0.0.1");
    await server.waitForLine(/"base64"/);
    await server.stop();
    const events = server.lines.map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({
      event: "listening",
      addresses: [`udp://127.0.0.1:${server.port}`],
    });
    expect(events[1]).toMatchObject({
      event: "datagram",
      from: `127.0.0.1:${port}`,
      host: "127.0.0.1",
      port,
      family: 4,
      bytes: 7,
      text: "Grüße",
    });
    expect(events[2]).toMatchObject({ event: "datagram", bytes: 2, base64: "//4=" });
    expect(events[3]).toMatchObject({ event: "stopped", datagrams: 2, bytes: 9, dropped: 0 });
  });

  test("a datagram from socat over IPv6 is printed with its sender", async ({ skip }) => {
    requireTools(skip, "socat");
    skip(!hasIpv6Loopback(), "needs the IPv6 loopback ::1");
    const server = await udpServer();
    // UDP may drop a datagram on a loaded machine: send again (at most 10 times) until it shows.
    const shown = server.waitForLine(/^datagram from \[::1\]:\d+ \(17 bytes\): hello from socat$/);
    let seen = false;
    void shown.then(() => {
      seen = true;
    });
    for (let attempt = 0; attempt < 10 && !seen; attempt++) {
      const tool = spawn("socat", ["-u", "-", `UDP6-SENDTO:[::1]:${server.port}`], {
        stdio: ["pipe", "ignore", "ignore"],
      });
      tool.stdin.end("hello from socat\n");
      const [code] = await once(tool, "close");
      expect(code).toBe(0);
      await Promise.race([shown, new Promise((r) => setTimeout(r, 500))]);
    }
    const [line] = await shown;
    expect(line).toMatch(/hello from socat$/);
  });

  test.skipIf(
    process.platform !== "linux" || (!hasCommand("python3") && process.env.CI !== "true"),
  )(
    "a flood the system drops part of: the drops are reported with the server's own counts",
    async () => {
      const server = await udpServer(["--json", "--host", "127.0.0.1"]);
      // The server reads nothing while stopped: its receive buffer overflows.
      server.child.kill("SIGSTOP");
      const sent = 20_000;
      try {
        await promisify(execFile)("python3", [
          "-c",
          `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(${sent}):\n    s.sendto(b"x" * 64, ("127.0.0.1", ${server.port}))`,
        ]);
      } finally {
        server.child.kill("SIGCONT");
      }
      const row = parseProcNetUdp(readFileSync("/proc/net/udp", "latin1")).filter(
        (r) => r.localPort === server.port,
      );
      expect(row).toHaveLength(1);
      const drops = row[0]!.drops;
      expect(drops).toBeGreaterThan(0);
      const datagrams = () => server.lines.filter((l) => l.includes('"event":"datagram"')).length;
      await expect.poll(datagrams, { interval: 20, timeout: 15_000 }).toBe(sent - drops);
      const result = await server.stop();
      expect(result.code).toBe(0);
      expect(JSON.parse(server.lines.at(-1)!)).toMatchObject({
        event: "stopped",
        datagrams: sent - drops,
        dropped: 0,
        kernelDropped: drops,
      });
      expect(result.stderr).toBe(
        `socklab udp-server: the system dropped ${drops} of ${sent} datagrams before the server could read them (its receive buffer was full)\n`,
      );
    },
    30_000,
  );

  test("a port in use is one line on stderr and exit code 1", async () => {
    const { port } = await sender();
    const result = await runCli(["udp-server", "--host", "127.0.0.1", "--port", String(port)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `socklab udp-server: Cannot bind "127.0.0.1:${port}": address already in use\n`,
    );
  });
});
