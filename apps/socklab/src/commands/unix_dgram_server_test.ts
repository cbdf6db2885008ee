import { spawn } from "node:child_process";
import { chmod, lstat, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, runPython, tutorialListing } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { runCli, SOCKLAB_BIN, startServer } from "../_test_cli.ts";

async function tempDir(): Promise<string> {
  const dir = await makeTempDir("socklab-udc");
  onTestFinished(() => dir.remove());
  return dir.path;
}

async function server(args: readonly string[]) {
  const cli = await startServer(["unix-dgram-server", ...args]);
  onTestFinished(async () => {
    await cli.stop("SIGKILL");
  });
  return cli;
}

/** Binds its own path, sends a datagram, prints the reply and its sender. */
const BOUND_SENDER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[2])
s.settimeout(10)
s.sendto(sys.argv[3].encode(), sys.argv[1])
data, sender = s.recvfrom(1 << 20)
print("reply", repr(data), sender, flush=True)
`;

/** Sends datagrams of the sizes given, unbound. */
const SIZED_SENDER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for size in sys.argv[2:]:
    s.sendto(b"x" * int(size), sys.argv[1])
`;

/** Binds a path and prints what arrives, until killed. */
const PRINTING_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
while True:
    data, sender = s.recvfrom(1 << 20)
    print(repr(data), flush=True)
`;

describe("socklab unix-dgram-server", () => {
  test("repeats the tutorial's exchange with unix-dgram-client; --once stops, exit 0, file removed", async () => {
    const dir = await tempDir();
    const path = join(dir, "unixsocket_udp");
    const srv = await server(["--path", path, "--once"]);
    expect(srv.address).toBe(`unixgram://${path}`);
    const client = await runCli(["unix-dgram-client", "--path", path]);
    expect(client).toMatchObject({ code: 0, stderr: "" });
    expect(client.stdout).toBe(`sent 11 bytes to ${path}\n`);
    const result = await srv.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `listening on unixgram://${path}`,
        "datagram from an unbound socket (11 bytes): Hallo Welt!",
        "stopped after 1 datagram (11 bytes)",
        "",
      ].join("\n"),
    );
    await expect(lstat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("prints the tutorial client's datagram (listing 3.11); --echo tells it cannot reply to it", async () => {
    const dir = await tempDir();
    const path = join(dir, "unixsocket_udp");
    const srv = await server(["--path", path, "--echo"]);
    const python = runPython(tutorialListing("3.11 unix dgram client", { path }));
    expect(await python.exited).toBe(0);
    await srv.waitForLine(/^datagram from an unbound socket \(11 bytes\): Hallo Welt!$/);
    const result = await srv.stop("SIGTERM");
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^socklab unix-dgram-server: Cannot echo to an unbound sender: it has no path to reply to/,
    );
  });

  test("--echo replies to a bound Python sender at the path it bound", async () => {
    const dir = await tempDir();
    const path = join(dir, "server.sock");
    const srv = await server(["--path", path, "--echo"]);
    const python = runPython(BOUND_SENDER, [path, join(dir, "python.sock"), "Hallo Welt!"]);
    onTestFinished(() => python.kill());
    await python.waitForLine(new RegExp(`^reply b'Hallo Welt!' ${path}$`));
    await srv.waitForLine(
      new RegExp(`^datagram from ${join(dir, "python.sock")} \\(11 bytes\\): Hallo Welt!$`),
    );
  });

  test("shows a sender path with control characters escaped, never raw", async () => {
    const dir = await tempDir();
    const path = join(dir, "server.sock");
    const srv = await server(["--path", path]);
    const evil = join(dir, "\x1b[2J\x9b.sock");
    const python = runPython(BOUND_SENDER.replace("s.settimeout(10)", "s.settimeout(0.01)"), [
      path,
      evil,
      "hi",
    ]);
    await python.exited;
    const [line] = await srv.waitForLine(/^datagram from .*$/);
    expect(line).toBe(`datagram from "${dir}/\\x1b[2J\\x9b.sock" (2 bytes): hi`);
  });

  test("stops on SIGTERM and on SIGINT with exit 0 and leaves no socket file", async () => {
    const dir = await tempDir();
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const path = join(dir, `${signal}.sock`);
      const srv = await server(["--path", path]);
      expect((await lstat(path)).isSocket()).toBe(true);
      const result = await srv.stop(signal);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout).toMatch(/stopped after 0 datagrams \(0 bytes\)\n$/);
      await expect(lstat(path)).rejects.toMatchObject({ code: "ENOENT" });
    }
  });

  test("starts over the stale file of a Python binder killed with SIGKILL", async () => {
    const dir = await tempDir();
    const path = join(dir, "stale.sock");
    const binder = runPython(
      "import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.readline()",
      [path],
    );
    await binder.waitForLine(/^ready$/);
    await binder.kill("SIGKILL");
    const srv = await server(["--path", path, "--once"]);
    await runCli(["unix-dgram-client", "--path", path, "--message", "again"]);
    const result = await srv.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`removed stale socket file ${path}\n`);
    expect(result.stdout).toContain("datagram from an unbound socket (5 bytes): again\n");
  });

  test("refuses the path of a live Python program, which keeps receiving", async () => {
    const dir = await tempDir();
    const path = join(dir, "live.sock");
    const python = runPython(PRINTING_RECEIVER, [path]);
    onTestFinished(() => python.kill());
    await python.waitForLine(/^ready$/);
    const result = await runCli(["unix-dgram-server", "--path", path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(
        `^socklab unix-dgram-server: Cannot bind "${path}": a live socket is there \\(held by pid \\d+, a datagram socket\\)\\n$`,
      ),
    );
    expect((await runCli(["unix-dgram-client", "--path", path])).code).toBe(0);
    await python.waitForLine(/^b'Hallo Welt!'$/);
  });

  test("refuses a regular file and leaves its content unchanged", async () => {
    const dir = await tempDir();
    const path = join(dir, "notes.txt");
    await writeFile(path, "keep me");
    const result = await runCli(["unix-dgram-server", "--path", path]);
    expect(result).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `socklab unix-dgram-server: Cannot use "${path}" as a socket: it is a regular file, not a socket; remove it yourself if it is not needed\n`,
    });
    expect(await readFile(path, "utf8")).toBe("keep me");
  });

  test("--json flags a datagram that filled the receive buffer as possibly cut", async () => {
    const dir = await tempDir();
    const path = join(dir, "server.sock");
    const srv = await server(["--path", path, "--json"]);
    const python = runPython(SIZED_SENDER, [path, "65535", "70000"]);
    expect(await python.exited).toBe(0);
    await srv.waitForLine(/"bytes":65536/);
    const result = await srv.stop();
    const events = result.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(["listening", "datagram", "datagram", "stopped"]);
    expect(events[1]).toMatchObject({ from: null, bytes: 65_535, truncated: false });
    expect(events[2]).toMatchObject({ from: null, bytes: 65_536, truncated: true });
    expect(events[3]).toMatchObject({ datagrams: 2, bytes: 131_071 });
  });

  test("serves a Linux abstract name (@name): no file, replies to an abstract client", async () => {
    const name = `socklab-cli-${process.pid}-${Date.now()}`;
    const server = await startServer(["unix-dgram-server", "--path", `@${name}`, "--echo"]);
    onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
    expect(server.address).toBe(`unixgram:@${name}`);
    const reply = await runCli([
      "unix-dgram-client",
      "--path",
      `@${name}`,
      "--bind",
      `@${name}-client`,
      "--wait-reply",
      "2",
    ]);
    expect(reply.code).toBe(0);
    expect(reply.stdout).toContain(`reply from @${name} (11 bytes): Hallo Welt!`);
    await server.waitForLine(
      new RegExp(`^datagram from @${name}-client \\(11 bytes\\): Hallo Welt!$`),
    );
    expect((await server.stop("SIGTERM")).code).toBe(0);
  });

  test.runIf(process.getuid?.() === 0)(
    "--mode decides who may send: another user is denied at 600 and let in at 666",
    async () => {
      const dir = await tempDir();
      await chmod(dir, 0o755);
      const asNobody = (path: string) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            [SOCKLAB_BIN, "unix-dgram-client", "--path", path],
            {
              uid: 65534,
              gid: 65534,
              env: { ...process.env, NO_COLOR: "1" },
            },
          );
          let stderr = "";
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.once("close", (code) => resolve({ code, stderr }));
        });
      const closed = await server(["--path", join(dir, "600.sock")]);
      expect(await asNobody(join(dir, "600.sock"))).toEqual({
        code: 1,
        stderr: `socklab unix-dgram-client: Cannot connect to "${join(dir, "600.sock")}": permission denied\n`,
      });
      const open = await server(["--path", join(dir, "666.sock"), "--mode", "666"]);
      expect(await asNobody(join(dir, "666.sock"))).toEqual({ code: 0, stderr: "" });
      await open.waitForLine(/^datagram from an unbound socket \(11 bytes\): Hallo Welt!$/);
      expect(closed.lines).toHaveLength(1);
    },
  );
});
