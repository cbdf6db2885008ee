import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { open, readFile, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { requireTools, testDir } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { startListening, startProcess, startSocklab } from "./_test_peers.ts";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Whether a process id is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A 1 MB random payload in a fresh temp dir, opened for a child's stdin. */
async function payloadFile(): Promise<{ bytes: Buffer; dir: string; fd: number }> {
  const dir = await testDir("listen-exec");
  const bytes = randomBytes(1024 * 1024);
  await writeFile(`${dir}/in.bin`, bytes);
  const file = await open(`${dir}/in.bin`, "r");
  onTestFinished(() => file.close());
  return { bytes, dir, fd: file.fd };
}

describe("socklab listen --exec", () => {
  test("--exec cat echoes 1 MB from nc -N: same SHA-256", async ({ skip }) => {
    requireTools(skip, "nc");
    const { bytes, fd } = await payloadFile();
    const server = await startListening(["listen", "--exec", "cat", "tcp://127.0.0.1:0"]);
    const nc = startProcess("nc", ["-N", "127.0.0.1", String(server.port)], [fd, "pipe", "pipe"]);
    expect(await nc.exited).toBe(0);
    expect(sha256(nc.stdout())).toBe(sha256(bytes));
    expect(await server.exited).toBe(0);
    const pid = (await server.stderrLine(/^connection from \S+: pid (\d+) \(exec:cat\)$/))[1];
    expect(server.stderr()).toMatch(
      new RegExp(`closed \\S+: 1048576 bytes sent, 1048576 received; pid ${pid} exited with 0\\n$`),
    );
  });

  test("--exec cat on a UNIX socket echoes 1 MB from socat: same SHA-256", async ({ skip }) => {
    requireTools(skip, "socat");
    const { bytes, dir } = await payloadFile();
    const server = await startListening(["listen", "--exec", "cat", `unix://${dir}/s`]);
    const socat = startProcess("socat", [
      "-t",
      "30",
      `OPEN:${dir}/in.bin,rdonly!!CREATE:${dir}/out.bin`,
      `UNIX-CONNECT:${dir}/s`,
    ]);
    expect(await socat.exited).toBe(0);
    expect(sha256(await readFile(`${dir}/out.bin`))).toBe(sha256(bytes));
    expect(await server.exited).toBe(0);
  });

  test("-k --sh-exec: a program that exits with 3 closes each client with its bytes, logged, and the next client is served", async ({
    skip,
  }) => {
    requireTools(skip, "nc");
    const server = await startListening([
      "listen",
      "-k",
      "--sh-exec",
      "echo hi; exit 3",
      "tcp://127.0.0.1:0",
    ]);
    for (const input of ["", "ignored by the program\n"]) {
      const nc = startProcess("nc", ["-N", "127.0.0.1", String(server.port)]);
      nc.child.stdin!.end(input);
      expect(await nc.exited).toBe(0);
      expect(nc.stdout().toString()).toBe("hi\n");
    }
    await server.stderrLine(/^closed \S+: 3 bytes sent, 0 received; pid \d+ exited with 3$/);
    await server.stderrLine(/^closed \S+: 3 bytes sent, 23 received; pid \d+ exited with 3$/);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  test("--exec 'head -c 10' passes 10 bytes back and closes the client", async ({ skip }) => {
    requireTools(skip, "nc");
    const server = await startListening(["listen", "--exec", "head -c 10", "tcp://127.0.0.1:0"]);
    const nc = startProcess("nc", ["-N", "127.0.0.1", String(server.port)]);
    nc.child.stdin!.end("0123456789abcdefghij\n");
    expect(await nc.exited).toBe(0);
    expect(nc.stdout().toString()).toBe("0123456789");
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toMatch(/: 10 bytes sent, \d+ received; pid \d+ exited with 0\n$/);
  });

  test("the client going away kills its sleep 1000, and --json says so", async () => {
    const server = startSocklab([
      "listen",
      "-k",
      "--json",
      "--exec",
      "sleep 1000",
      "tcp://127.0.0.1:0",
    ]);
    const listening = await server.stderrLine(
      /^\{"event":"listening".*"tcp:\/\/127\.0\.0\.1:(\d+)"/,
    );
    const client = net.connect(Number(listening[1]), "127.0.0.1");
    await once(client, "connect");
    const opened = JSON.parse((await server.stderrLine(/^\{"event":"connection".*\}$/))[0]) as {
      pid: number;
      exec: string;
    };
    expect(opened.exec).toBe("exec:sleep 1000");
    expect(alive(opened.pid)).toBe(true);
    client.resetAndDestroy();
    const closed = JSON.parse((await server.stderrLine(/^\{"event":"closed".*\}$/))[0]) as Record<
      string,
      unknown
    >;
    expect(closed).toMatchObject({ pid: opened.pid, exitCode: null, signal: "SIGTERM" });
    expect(alive(opened.pid)).toBe(false);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  test("stopping the listener kills the running program", async () => {
    const server = await startListening(["listen", "--exec", "cat", "tcp://127.0.0.1:0"]);
    const client = net.connect(server.port, "127.0.0.1");
    onTestFinished(() => {
      client.destroy();
    });
    const pid = Number((await server.stderrLine(/: pid (\d+) /))[1]);
    expect(alive(pid)).toBe(true);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  test("a program that does not exist: one line, exit code 1", async () => {
    const server = await startListening([
      "listen",
      "--exec",
      "socklab-no-such-program",
      "tcp://127.0.0.1:0",
    ]);
    const client = net.connect(server.port, "127.0.0.1");
    onTestFinished(() => {
      client.destroy();
    });
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toMatch(
      /\nsocklab listen: Cannot run "socklab-no-such-program": no such program\n$/,
    );
  });

  test.each([
    [["--exec", "cat", "udp://127.0.0.1:0"], "Cannot use --exec on a datagram address"],
    [["--sh-exec", "cat", "--broker", "tcp://127.0.0.1:0"], "Cannot use --sh-exec with --broker"],
    [
      ["--exec", "cat", "--sh-exec", "cat", "tcp://127.0.0.1:0"],
      "Cannot use --exec and --sh-exec together",
    ],
    [["--exec", "cat", "--recv-only", "tcp://127.0.0.1:0"], "Cannot use --recv-only with --exec"],
    [
      ["--exec", "cat 'x", "tcp://127.0.0.1:0"],
      `Cannot run "cat 'x": a single quote is not closed`,
    ],
    [["--exec", "  ", "tcp://127.0.0.1:0"], 'Cannot run "  ": it is empty'],
  ])("listen %j is a usage error: %s", async (args, message) => {
    const cli = startSocklab(["listen", ...args]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr().split("\n")[0]).toMatch(
      new RegExp(`^socklab listen: ${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
  });
});
