import { execFile } from "node:child_process";
import { once } from "node:events";
import { connect, createServer } from "node:net";
import { promisify } from "node:util";
import { hasIpv6Loopback } from "@socklab/core";
import { requireTools, runPython, tutorialListing } from "@socklab/core/testing";
import { afterEach, describe, expect, test } from "vitest";
import { type CliProcess, runCli, startServer } from "../_test_cli.ts";

const run = promisify(execFile);
const HTML =
  "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>";

const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
});

async function serve(args: string[]): Promise<CliProcess & { address: string; port: number }> {
  const cli = await startServer(["tcp-server", "--port", "0", ...args]);
  running.push(cli);
  return Object.assign(cli, { port: Number(/:(\d+)$/.exec(cli.address)![1]) });
}

/** Sends raw bytes, half-closes, and returns all the server sent back. */
async function raw(port: number, data: string): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  socket.end(data);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("latin1");
}

describe("socklab tcp-server", () => {
  test("prints its ready lines, serves curl the page, logs connection and request, stops on SIGTERM", async ({
    skip,
  }) => {
    requireTools(skip, "curl");
    const cli = await serve([]);
    const { port } = cli;
    if (hasIpv6Loopback()) {
      expect(cli.address).toBe(`tcp://[::1]:${port}`);
      await cli.waitForLine(new RegExp(`^listening on tcp://127\\.0\\.0\\.1:${port}$`));
    }
    const { stdout } = await run("curl", ["-s", `http://127.0.0.1:${port}/`]);
    expect(stdout).toBe(HTML);
    await cli.waitForLine(/^connection from 127\.0\.0\.1:\d+$/);
    await cli.waitForLine(/^127\.0\.0\.1:\d+ "GET \/ HTTP\/1\.1" 200 \d+ bytes$/);
    const result = await cli.stop("SIGTERM");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
  });

  test("--once serves the tutorial's listing 3.3 client, then exits 0", async () => {
    const cli = await serve(["--host", "127.0.0.1", "--once"]);
    const py = runPython(tutorialListing("3.3 client", { host: "127.0.0.1", port: cli.port }));
    expect(await py.exited).toBe(0);
    expect(py.lines[0]).toContain("<h1>Hallo Welt!</h1>");
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^connection from 127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toMatch(/"GET \/ HTTP\/1\.0" 200 \d+ bytes$/m);
  });

  test("SIGTERM with an idle keep-alive client open still exits 0 at once", async () => {
    const cli = await serve(["--host", "127.0.0.1"]);
    const socket = connect(cli.port, "127.0.0.1");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await once(socket, "data");
    const ended = once(socket, "end");
    socket.resume();
    const result = await cli.stop("SIGTERM");
    expect(result.code).toBe(0);
    await ended;
    socket.destroy();
  });

  test("an occupied port is one line on stderr and exit code 1", async () => {
    const blocker = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const { port } = blocker.address() as { port: number };
    try {
      const r = await runCli(["tcp-server", "--host", "127.0.0.1", "--port", String(port)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `socklab tcp-server: Cannot bind "127.0.0.1:${port}": address already in use\n`,
      );
    } finally {
      blocker.close();
    }
  });

  test("--verbose logs the bytes received as Python shows them (tutorial 3.1.3)", async () => {
    const cli = await serve(["--host", "127.0.0.1", "--verbose"]);
    const answer = await raw(cli.port, "abc\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await cli.waitForLine(/^127\.0\.0\.1:\d+ received b'abc\\r\\n'$/);
    await cli.waitForLine(/^127\.0\.0\.1:\d+ "abc" 400 \d+ bytes: malformed request line/);
    await cli.waitForLine(/^closed 127\.0\.0\.1:\d+ \(5 bytes received, \d+ sent\)$/);
  });

  test("--json prints one event object per line", async () => {
    const cli = await serve(["--host", "127.0.0.1", "--json"]);
    expect(JSON.parse(cli.lines[0]!)).toMatchObject({
      event: "listening",
      addresses: [`tcp://127.0.0.1:${cli.port}`],
    });
    await raw(cli.port, "GET /x HTTP/1.0\r\n\r\n");
    const line = await cli.waitForLine(/"event":"request"/);
    expect(JSON.parse(line.input)).toMatchObject({
      event: "request",
      requestLine: "GET /x HTTP/1.0",
      status: 404,
      keepAlive: false,
    });
  });

  test("--max-connections refuses the one too many with 503 and logs it", async () => {
    const cli = await serve(["--host", "127.0.0.1", "--max-connections", "1"]);
    const held = connect(cli.port, "127.0.0.1");
    await cli.waitForLine(/^connection from /);
    const answer = await raw(cli.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    await cli.waitForLine(/^refused 127\.0\.0\.1:\d+: 1 connections open/);
    held.destroy();
  });

  test("--header-timeout: a silent client gets 408", async () => {
    const cli = await serve(["--host", "127.0.0.1", "--header-timeout", "100ms"]);
    const socket = connect(cli.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await cli.waitForLine(
      /^127\.0\.0\.1:\d+ "" 408 \d+ bytes: the request head did not arrive in time$/,
    );
  });

  test("--quiet prints the ready line and nothing per request", async () => {
    const cli = await serve(["--host", "127.0.0.1", "--quiet"]);
    expect(await raw(cli.port, "GET / HTTP/1.0\r\n\r\n")).toContain("Hallo Welt!");
    const result = await cli.stop("SIGTERM");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`listening on tcp://127.0.0.1:${cli.port}\n`);
  });

  test("a zero timeout is a usage error", async () => {
    const r = await runCli(["tcp-server", "--header-timeout", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^socklab tcp-server: Cannot use --header-timeout "0": it must be at least 1 ms/,
    );
  });
});
