/**
 * The hostile cases of every server that binds a UNIX socket file, run
 * against each of them (issue 11): one table of servers, one test per defect.
 * The servers run as real processes under umask 000, the way a careless
 * service manager starts them.
 *
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type LineWatch, runPython, testDir, watchLines } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { SOCKLAB_BIN } from "./_test_cli.ts";

type Kind = "stream" | "dgram";

interface UnixServer {
  name: string;
  kind: Kind;
  /** The command line serving (echoing on) a socket file at `path`. */
  args(path: string): string[];
}

const LAB = ["lab", "--host", "127.0.0.1", "--port", "0", "--timeout", "0", "--quiet"];

/** Every socklab server with a UNIX socket file. */
const SERVERS: readonly UnixServer[] = [
  {
    name: "unix-stream-server",
    kind: "stream",
    args: (p) => ["unix-stream-server", "--path", p, "--echo", "--quiet"],
  },
  {
    name: "multiplex --path",
    kind: "stream",
    args: (p) => [
      "multiplex",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--timeout",
      "0",
      "--quiet",
      "--path",
      p,
    ],
  },
  {
    name: "lab (UNIX stream)",
    kind: "stream",
    args: (p) => [...LAB, "--unix-path", p, "--unixgram-path", ""],
  },
  {
    name: "unix-dgram-server",
    kind: "dgram",
    args: (p) => ["unix-dgram-server", "--path", p, "--echo", "--quiet"],
  },
  {
    name: "lab (UNIX datagram)",
    kind: "dgram",
    args: (p) => [...LAB, "--unix-path", "", "--unixgram-path", p],
  },
];

const STREAM_SERVERS = SERVERS.filter((s) => s.kind === "stream");
const DGRAM_SERVERS = SERVERS.filter((s) => s.kind === "dgram");

interface Running extends LineWatch {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  /** Resolves once stderr written from now on matches `pattern`. */
  waitForStderr(pattern: RegExp): Promise<void>;
  /** Exit code (or signal) once ended. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** SIGTERM, then the end. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Starts `socklab args…` under umask 000; killed when the test ends. */
function launch(args: readonly string[]): Running {
  const child = spawn(
    "sh",
    ["-c", 'umask 000 && exec "$0" "$@"', process.execPath, SOCKLAB_BIN, ...args],
    { env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  const stderrWaiters = new Set<{ pattern: RegExp; from: number; resolve: () => void }>();
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of stderrWaiters) {
      if (w.pattern.test(stderr.slice(w.from))) {
        stderrWaiters.delete(w);
        w.resolve();
      }
    }
  });
  const watch = watchLines(child, () => `socklab ${args.join(" ")} (stderr: ${stderr})`);
  let stoppedAt = 0;
  const ended = once(child, "close").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    ms: stoppedAt === 0 ? 0 : performance.now() - stoppedAt,
  }));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    return ended.then(() => undefined);
  });
  return {
    ...watch,
    child,
    stderr: () => stderr,
    waitForStderr(pattern) {
      return new Promise((resolve) => stderrWaiters.add({ pattern, from: stderr.length, resolve }));
    },
    ended,
    stop() {
      stoppedAt = performance.now();
      child.kill("SIGTERM");
      return ended;
    },
  };
}

/** Starts a server on `path` and waits until it listens there. */
async function serve(server: UnixServer, path: string): Promise<Running> {
  const running = launch(server.args(path));
  await running.waitForLine(new RegExp(`^listening on unix(gram)?://${escapeRegExp(path)}$`));
  return running;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The server's resident memory in MB, from /proc. */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) / 1024;
}

/** Python: binds `path` (listening if told), says ready, waits for stdin to close. */
function pythonHolder(path: string, type: "STREAM" | "DGRAM", listen: boolean) {
  return runPython(
    [
      "import socket, sys",
      `s = socket.socket(socket.AF_UNIX, socket.SOCK_${type})`,
      "s.bind(sys.argv[1])",
      listen ? "s.listen(8)" : "",
      "print('ready', flush=True)",
      "sys.stdin.read()",
    ].join("\n"),
    [path],
  );
}

describe.each(SERVERS)("$name and its socket file", (server) => {
  test("is born with mode 0600 under umask 000: never wider, not even during start-up (defect 3)", async () => {
    const dir = await testDir("socklab-hostile");
    const path = join(dir, "s.sock");
    // A watcher that reports the socket file's mode the first moment it exists.
    const watcher = runPython(
      [
        "import os, sys, stat",
        "print('ready', flush=True)",
        "while True:",
        "    try:",
        "        m = os.lstat(sys.argv[1]).st_mode",
        "    except FileNotFoundError:",
        "        continue",
        "    if stat.S_ISSOCK(m):",
        "        print(oct(m & 0o777), flush=True)",
        "        break",
      ].join("\n"),
      [path],
    );
    await watcher.waitForLine(/^ready$/);
    const running = await serve(server, path);
    const [first] = await watcher.waitForLine(/^0o[0-7]+$/);
    expect(first).toBe("0o600");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await running.stop()).code).toBe(0);
  });

  test("SIGTERM leaves a regular file put where its socket was (defect 2)", async () => {
    const dir = await testDir("socklab-hostile");
    const path = join(dir, "s.sock");
    const running = await serve(server, path);
    await rm(path);
    await writeFile(path, "precious");
    expect((await running.stop()).code).toBe(0);
    expect(await readFile(path, "utf8")).toBe("precious");
  });

  test("SIGTERM leaves another server's live socket put where its socket was (defect 2)", async () => {
    const dir = await testDir("socklab-hostile");
    const path = join(dir, "s.sock");
    const running = await serve(server, path);
    await rm(path);
    const other =
      server.kind === "stream"
        ? pythonHolder(path, "STREAM", true)
        : pythonHolder(path, "DGRAM", false);
    onTestFinished(() => other.kill());
    await other.waitForLine(/^ready$/);
    expect((await running.stop()).code).toBe(0);
    expect((await stat(path)).isSocket()).toBe(true);
  });

  test("refuses a socket bound and not listening yet, naming its process, and keeps it (defect 7)", async () => {
    const dir = await testDir("socklab-hostile");
    const path = join(dir, "s.sock");
    const holder = pythonHolder(path, server.kind === "stream" ? "STREAM" : "DGRAM", false);
    onTestFinished(() => holder.kill());
    await holder.waitForLine(/^ready$/);
    const running = launch(server.args(path));
    const { code } = await running.ended;
    expect(code).toBe(1);
    expect(running.stderr()).toMatch(
      new RegExp(
        `Cannot bind "${escapeRegExp(path)}": a live socket is there \\(held by pid ${holder.child.pid}, `,
      ),
    );
    expect(running.stderr().trim().split("\n")).toHaveLength(1);
    expect((await stat(path)).isSocket()).toBe(true);
  });
});

describe.each(STREAM_SERVERS)("$name and clients that arrive during start-up", (server) => {
  test("a client connecting while it starts is served; SIGTERM with it attached exits 0 (defect 4)", async () => {
    const dir = await testDir("socklab-hostile");
    const path = join(dir, "s.sock");
    // Connects the moment the path accepts, sends a line, prints the echo, stays connected.
    const client = runPython(
      [
        "import socket, sys",
        "print('ready', flush=True)",
        "while True:",
        "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "    try:",
        "        s.connect(sys.argv[1])",
        "        break",
        "    except (FileNotFoundError, ConnectionRefusedError):",
        "        s.close()",
        "s.sendall(b'early bird\\n')",
        "s.settimeout(10)",
        "print(s.recv(100), flush=True)",
        "sys.stdin.read()",
      ].join("\n"),
      [path],
    );
    onTestFinished(() => client.kill());
    await client.waitForLine(/^ready$/);
    const running = launch(server.args(path));
    expect((await client.waitForLine(/^b'.*$/))[0]).toBe("b'early bird\\n'");
    await running.waitForLine(/^listening on unix:/);
    const { code, ms } = await running.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(8000);
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe.each(STREAM_SERVERS)("$name on an abstract name (@name)", (server) => {
  test("binds the exact name on every Node: Python connects to it and gets its echo (defect 6)", async () => {
    const name = `socklab-abstract-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const running = launch(server.args(`@${name}`));
    await running.waitForLine(new RegExp(`^listening on unix:@${escapeRegExp(name)}$`));
    // /proc/net/unix shows the bound name; Node 20's own `net` would show it padded with NULs (@).
    const bound = (await readFile("/proc/net/unix", "utf8"))
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[7])
      .filter((path) => path?.startsWith(`@${name}`));
    expect(bound).toContain(`@${name}`);
    expect(bound.every((path) => path === `@${name}`)).toBe(true);
    const client = runPython(
      [
        "import socket, sys",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "s.settimeout(10)",
        "s.connect('\\0' + sys.argv[1])",
        "s.sendall(b'abstract\\n')",
        "print(s.recv(100), flush=True)",
      ].join("\n"),
      [name],
    );
    expect((await client.waitForLine(/^b'.*$/))[0]).toBe("b'abstract\\n'");
    expect((await running.stop()).code).toBe(0);
  });
});

/** A well-behaved client: sends "ping" from its own bound path and prints the echo. */
async function ping(path: string, from: string): Promise<string> {
  const client = runPython(
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
      "s.bind(sys.argv[2])",
      "s.settimeout(10)",
      "s.sendto(b'ping', sys.argv[1])",
      "print(s.recv(100), flush=True)",
    ].join("\n"),
    [path, from],
  );
  return (await client.waitForLine(/^b'.*$/))[0];
}

describe.each(DGRAM_SERVERS)("$name echoing to a sender that never reads", (server) => {
  test.each([100, 60_000])(
    "%i-byte flood: RSS stays under 150 MB and returns within 20 MB; drops are summed up, not one line each (defect 1)",
    async (size) => {
      const dir = await testDir("socklab-hostile");
      const path = join(dir, "s.sock");
      const running = await serve(server, path);
      const pid = running.child.pid!;
      // Resting size: after a first echo, so the code of the echo path is loaded and compiled.
      expect(await ping(path, join(dir, "ping-before.sock"))).toBe("b'ping'");
      const start = await rssMb(pid);
      // Bounded flood: at most 4 s and 400,000 datagrams, from a bound sender that never reads.
      const flood = runPython(
        [
          "import socket, sys, time, select",
          "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
          "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)",
          "s.bind(sys.argv[2])",
          "s.setblocking(False)",
          "data = b'x' * int(sys.argv[3])",
          "sent, end = 0, time.monotonic() + 4",
          "while sent < 400000 and time.monotonic() < end:",
          "    try:",
          "        s.sendto(data, sys.argv[1])",
          "        sent += 1",
          "    except BlockingIOError:",
          "        select.select([], [], [], 0.0005)",
          "print(sent, flush=True)",
          "sys.stdin.read()",
        ].join("\n"),
        [path, join(dir, "flood.sock"), String(size)],
      );
      onTestFinished(() => flood.kill());
      let peak = start;
      const sampler = setInterval(() => {
        rssMb(pid).then(
          (mb) => {
            peak = Math.max(peak, mb);
          },
          () => {},
        );
      }, 100);
      onTestFinished(() => clearInterval(sampler));
      const [sent] = await flood.waitForLine(/^\d+$/);
      expect(Number(sent)).toBeGreaterThan(100);
      // The server says when drops stopped (and has given the flood's memory back by then).
      const calm = running.waitForStderr(/Replies flow again \(\d+ dropped since start\)/);
      // The sender leaves.
      flood.child.stdin.end();
      await once(flood.child, "close");
      // A well-behaved client still gets its echo: the server kept serving.
      expect(await ping(path, join(dir, "ping-after.sock"))).toBe("b'ping'");
      await calm;
      clearInterval(sampler);
      peak = Math.max(peak, await rssMb(pid));
      const after = await rssMb(pid);
      console.log(
        `${server.name}, ${size}-byte flood of ${sent}: RSS ${start.toFixed(0)} MB → peak ${peak.toFixed(0)} MB → ${after.toFixed(0)} MB after the sender left`,
      );
      expect(peak).toBeLessThan(150);
      expect(after - start).toBeLessThan(20);
      expect((await running.stop()).code).toBe(0);
      const lines = running.stderr().trim().split("\n").filter(Boolean);
      expect(lines.length).toBeLessThan(30);
      expect(lines.some((l) => /Dropped \d+ repl(y|ies) \(a receiver is not reading/.test(l))).toBe(
        true,
      );
    },
    30_000,
  );
});
