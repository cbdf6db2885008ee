import { spawn } from "node:child_process";
import { once } from "node:events";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { UNIX_PATH_MAX } from "@socklab/core";
import {
  hasCommand,
  makeTempDir,
  requireTools,
  runPython,
  tutorialListing,
} from "@socklab/core/testing";
import { connectUnix } from "@socklab/unix-stream";
import { describe, type TestContext, test } from "vitest";
import { type CliProcess, runCli, startCli, startServer } from "../_test_cli.ts";

/** Registers cleanup with the running test (concurrent tests need the context's hook). */
type Finished = TestContext["onTestFinished"];

async function tempPath(finished: Finished, name = "s"): Promise<{ dir: string; path: string }> {
  const dir = await makeTempDir("socklab-uss");
  finished(dir.remove);
  return { dir: dir.path, path: join(dir.path, name) };
}

/** Starts `socklab unix-stream-server args…`, stopped (SIGKILL) when the test ends if still running. */
async function server(
  finished: Finished,
  args: readonly string[],
): Promise<CliProcess & { address: string }> {
  const cli = await startServer(["unix-stream-server", ...args]);
  finished(() => void cli.stop("SIGKILL"));
  return cli;
}

/** Sends `data` over a bare socket, half-closes, returns what came back. */
async function exchange(path: string, data: string | Uint8Array): Promise<Buffer> {
  const socket = connect({ path, allowHalfOpen: true });
  socket.end(data);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A Python server that answers every client `still here` after it half-closes. */
async function pythonServer(finished: Finished, path: string) {
  const python = runPython(
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
      "s.bind(sys.argv[1])",
      "s.listen(8)",
      "print('ready', flush=True)",
      "while True:",
      "    c, _ = s.accept()",
      "    while c.recv(4096): pass",
      "    c.sendall(b'still here')",
      "    c.close()",
    ].join("\n"),
    [path],
  );
  finished(() => python.kill());
  await python.waitForLine(/^ready$/);
  return python;
}

async function isGone(path: string): Promise<boolean> {
  return lstat(path).then(
    () => false,
    (err: NodeJS.ErrnoException) => err.code === "ENOENT",
  );
}

describe.concurrent("socklab unix-stream-server", () => {
  test("prints the tutorial client's (listing 3.9) Hallo Welt! and removes its socket file on SIGTERM", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path]);
    expect(cli.address).toBe(`unix://${path}`);
    expect((await lstat(path)).mode & 0o777).toBe(0o600);
    const client = runPython(tutorialListing("3.9 unix stream client", { path }));
    expect(await client.exited).toBe(0);
    await cli.waitForLine(/^closed \(11 bytes\)$/);
    const result = await cli.stop("SIGTERM");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `listening on unix://${path}`,
        `connection on ${path}`,
        "Hallo Welt!",
        "closed (11 bytes)",
        "",
      ].join("\n"),
    );
    expect(result.stderr).toBe("");
    expect(await isGone(path)).toBe(true);
  });

  test("stops on SIGINT with exit code 0 and removes its socket file", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path]);
    const result = await cli.stop("SIGINT");
    expect(result.code).toBe(0);
    expect(await isGone(path)).toBe(true);
  });

  test("stops on SIGTERM while a client is connected: the client gets an end of stream", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path]);
    const client = connect(path);
    client.write("partial");
    await cli.waitForLine(/^partial$/);
    const ended = once(client, "end");
    client.resume();
    const result = await cli.stop("SIGTERM");
    await ended;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/closed \(7 bytes\)\n$/);
    expect(await isGone(path)).toBe(true);
    client.destroy();
  });

  test("--mode 660 gives the socket file mode 0660; --mode 999 is a usage error", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await server(onTestFinished, ["--path", path, "--mode", "660"]);
    expect((await lstat(path)).mode & 0o777).toBe(0o660);
    const bad = await runCli(["unix-stream-server", "--path", `${path}2`, "--mode", "999"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^socklab unix-stream-server: Cannot use mode "999": expected octal/,
    );
  });

  test("--echo answers socat and nc -U", async ({ expect, onTestFinished, skip }) => {
    requireTools(skip, "socat", "nc");
    const { path } = await tempPath(onTestFinished);
    await server(onTestFinished, ["--path", path, "--echo", "--quiet"]);
    if (hasCommand("socat")) {
      const socat = spawn("socat", ["-", `UNIX-CONNECT:${path}`]);
      let out = "";
      socat.stdout.on("data", (c: Buffer) => {
        out += c;
      });
      socat.stdin.end("via socat\n");
      expect((await once(socat, "close"))[0]).toBe(0);
      expect(out).toBe("via socat\n");
    }
    if (hasCommand("nc")) {
      const nc = spawn("nc", ["-U", "-N", path]);
      let out = "";
      nc.stdout.on("data", (c: Buffer) => {
        out += c;
      });
      nc.stdin.end("via nc\n");
      expect((await once(nc, "close"))[0]).toBe(0);
      expect(out).toBe("via nc\n");
    }
  });

  test("--echo serves 200 concurrent clients, each getting its own bytes", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await server(onTestFinished, ["--path", path, "--echo", "--quiet"]);
    const payloads = Array.from({ length: 200 }, (_, i) => Buffer.alloc(500 + i * 53, i));
    const answers = await Promise.all(payloads.map((p) => exchange(path, p)));
    for (const [i, answer] of answers.entries()) expect(answer.equals(payloads[i]!)).toBe(true);
  });

  test("--once stops after the first connection, exit 0, file removed", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path, "--once"]);
    expect((await exchange(path, "only me")).length).toBe(0);
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("only me\nclosed (7 bytes)\n");
    expect(await isGone(path)).toBe(true);
  });

  test("shows bytes that are not text as a Python bytes literal, and a character split across chunks whole", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path]);
    await exchange(path, Uint8Array.of(0xff, 0x00, 0x41, 0x0a));
    await cli.waitForLine(/^closed \(4 bytes\)$/);
    // "Grüße" with the ü cut between two sends.
    const socket = connect(path);
    await once(socket, "connect");
    socket.write(Buffer.from([0x47, 0x72, 0xc3]));
    await cli.waitForLine(/^Gr$/);
    socket.end(Buffer.from([0xbc, 0xc3, 0x9f, 0x65, 0x0a]));
    await cli.waitForLine(/^closed \(8 bytes\)$/);
    expect(cli.lines).toContain("b'\\xff\\x00A\\n'");
    expect(cli.lines).toContain("üße");
  });

  test("--json prints one event per line", async ({ expect, onTestFinished }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path, "--json"]);
    await exchange(path, "json\n");
    await cli.waitForLine(/"event":"closed"/);
    const events = cli.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(["listening", "connection", "data", "closed"]);
    expect(events[0]).toMatchObject({ addresses: [`unix://${path}`] });
    expect(events[2]).toMatchObject({ id: 1, bytes: 5, text: "json\n" });
    expect(events[3]).toMatchObject({ id: 1, bytes: 5 });
  });

  test("--max-connections 1 refuses a second client while the first is connected", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const cli = await server(onTestFinished, ["--path", path, "--max-connections", "1"]);
    const first = connect(path);
    await cli.waitForLine(/^connection on /);
    const second = connect(path);
    second.on("error", () => {}); // a reset is as good as an end here
    second.resume();
    await once(second, "close");
    await cli.waitForLine(/^refused a connection on .*: 1 open, the limit is 1$/);
    first.end("first");
    await cli.waitForLine(/^closed \(5 bytes\)$/);
    expect(cli.lines.filter((l) => l.startsWith("connection on"))).toHaveLength(1);
  });
});

describe.concurrent("socklab unix-stream-server and what is at the path", () => {
  test("removes a stale socket file left by a Python server killed with SIGKILL, and serves", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const python = runPython(
      [
        "import os, signal, socket, sys",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "s.bind(sys.argv[1])",
        "s.listen(1)",
        "os.kill(os.getpid(), signal.SIGKILL)",
      ].join("\n"),
      [path],
    );
    expect(await python.exited).toBe("SIGKILL");
    expect((await lstat(path)).isSocket()).toBe(true);
    const cli = startCli(["unix-stream-server", "--path", path, "--echo"]);
    onTestFinished(() => void cli.stop("SIGKILL"));
    await cli.waitForLine(/^listening on /);
    expect((await exchange(path, "back")).toString()).toBe("back");
    const result = await cli.stop();
    expect(result.stderr).toBe(`removed stale socket file ${path}\n`);
  });

  test("refuses a path a live Python server listens on with one line, exit 1; the live one still answers", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await pythonServer(onTestFinished, path);
    const r = await runCli(["unix-stream-server", "--path", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^socklab unix-stream-server: Cannot bind "${path}": a live socket is there \\(held by pid \\d+, listening\\)\n$`,
      ),
    );
    expect(r.stdout).toBe("");
    expect((await exchange(path, "hi")).toString()).toBe("still here");
  });

  test("refuses a second socklab server on the path; the first keeps serving", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const first = await server(onTestFinished, ["--path", path, "--echo"]);
    const second = await runCli(["unix-stream-server", "--path", path]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/a live socket is there \(held by pid \d+, listening\)/);
    expect((await exchange(path, "first")).toString()).toBe("first");
    expect(first.lines.filter((l) => l.startsWith("connection on"))).toHaveLength(1);
  });

  test("refuses a regular file, exit 1, and leaves its content unchanged", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await writeFile(path, "keep me\n");
    const r = await runCli(["unix-stream-server", "--path", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `socklab unix-stream-server: Cannot use "${path}" as a socket: it is a regular file, not a socket; remove it yourself if it is not needed\n`,
    );
    expect(await readFile(path, "utf8")).toBe("keep me\n");
  });

  test("refuses a directory, exit 1, and leaves it", async ({ expect, onTestFinished }) => {
    const { path } = await tempPath(onTestFinished);
    await mkdir(path);
    const r = await runCli(["unix-stream-server", "--path", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/it is a directory, not a socket/);
    expect((await lstat(path)).isDirectory()).toBe(true);
  });

  test("refuses a path longer than the kernel allows before binding: usage error", async ({
    expect,
    onTestFinished,
  }) => {
    const { dir } = await tempPath(onTestFinished);
    const path = join(dir, "x".repeat(UNIX_PATH_MAX));
    const r = await runCli(["unix-stream-server", "--path", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^socklab unix-stream-server: Cannot use UNIX socket path ".*": it has \d+ bytes, the kernel allows 107; use a shorter path\n/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  test("listens on an abstract name @name: serves, leaves no file", async ({
    expect,
    onTestFinished,
  }) => {
    const { dir } = await tempPath(onTestFinished);
    const name = `socklab-uss-${process.pid}-${Date.now()}`;
    const cli = await server(onTestFinished, ["--path", `@${name}`, "--echo"]);
    expect(cli.address).toBe(`unix:@${name}`);
    // connectUnix reaches the exact name on every Node (Node 20's own `net` would pad it).
    const conn = await connectUnix({ path: name, abstract: true });
    await conn.end("abstract");
    expect((await conn.readToEnd()).toString()).toBe("abstract");
    await conn.close();
    await cli.waitForLine(new RegExp(`^connection on @${name}$`));
    expect((await cli.stop()).code).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });
});
