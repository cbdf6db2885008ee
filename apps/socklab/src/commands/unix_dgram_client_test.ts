import { lstat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { makeTempDir, runPython, startTutorialServer } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { runCli, startServer } from "../_test_cli.ts";

async function tempDir(): Promise<string> {
  const dir = await makeTempDir("socklab-udc");
  onTestFinished(() => dir.remove());
  return dir.path;
}

/** Binds a path and prints each datagram, numbered from 1, with its sender, until killed. */
const PRINTING_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    data, sender = s.recvfrom(1 << 20)
    n += 1
    print(n, repr(data), repr(sender), flush=True)
`;

/** Binds a path and exits without unlinking it: a stale socket file. */
const STALE_MAKER =
  "import socket, sys, os\ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nos._exit(0)";

describe("socklab unix-dgram-client", () => {
  test("sends Hallo Welt! to the tutorial's Python server (listing 3.10), unbound like listing 3.11", async () => {
    const dir = await tempDir();
    const path = join(dir, "unixsocket_udp");
    const { python } = await startTutorialServer("3.10 unix dgram server", { path });
    onTestFinished(() => python.kill());
    const result = await runCli(["unix-dgram-client", "--path", path]);
    expect(result).toMatchObject({ code: 0, stdout: `sent 11 bytes to ${path}\n`, stderr: "" });
    expect(await python.exited).toBe(0);
    expect(python.lines.at(-1)).toBe("b'Hallo Welt!' None");
  });

  test("--message reads escapes and --count sends that many datagrams, in order", async () => {
    const dir = await tempDir();
    const path = join(dir, "python.sock");
    const python = runPython(PRINTING_RECEIVER, [path]);
    onTestFinished(() => python.kill());
    await python.waitForLine(/^ready$/);
    const result = await runCli([
      "unix-dgram-client",
      "--path",
      path,
      "--message",
      "Gr\\xc3\\xbc\\xdfe\\r\\n\\xff",
      "--count",
      "3",
      "--quiet",
    ]);
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    await python.waitForLine(/^3 /);
    const shown = "b'Gr\\xc3\\xbc\\xdfe\\r\\n\\xff' None";
    expect(python.lines.slice(1)).toEqual([`1 ${shown}`, `2 ${shown}`, `3 ${shown}`]);
  });

  test("--bind auto --wait-reply prints the echo server's reply and removes its temp path", async () => {
    const dir = await tempDir();
    const path = join(dir, "echo.sock");
    const srv = await startServer(["unix-dgram-server", "--path", path, "--echo"]);
    onTestFinished(async () => {
      await srv.stop("SIGKILL");
    });
    const result = await runCli([
      "unix-dgram-client",
      "--path",
      path,
      "--bind",
      "auto",
      "--wait-reply",
      "5s",
      "--count",
      "2",
    ]);
    expect(result.code).toBe(0);
    const bound = /^bound to (\S+) \(replies come here\)$/m.exec(result.stdout)![1]!;
    expect(result.stdout).toBe(
      [
        `bound to ${bound} (replies come here)`,
        `sent 11 bytes to ${path}`,
        `reply from ${path} (11 bytes): Hallo Welt!`,
        `sent 11 bytes to ${path}`,
        `reply from ${path} (11 bytes): Hallo Welt!`,
        "sent 2, replies 2",
        "",
      ].join("\n"),
    );
    await srv.waitForLine(new RegExp(`^datagram from ${bound} \\(11 bytes\\): Hallo Welt!$`));
    await expect(lstat(dirname(bound))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("--wait-reply without an answer fails after the wait with one line", async () => {
    const dir = await tempDir();
    const path = join(dir, "silent.sock");
    const python = runPython(PRINTING_RECEIVER, [path]);
    onTestFinished(() => python.kill());
    await python.waitForLine(/^ready$/);
    const result = await runCli(["unix-dgram-client", "--path", path, "--wait-reply", "200ms"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `socklab unix-dgram-client: Cannot get a reply from "${path}": nothing arrived within 200 ms\n`,
    );
    // The datagram came from the auto-bound path, which is gone now.
    const sender = (await python.waitForLine(/^1 b'Hallo Welt!' '(.+)'$/))[1]!;
    await expect(lstat(dirname(sender))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("names the error for a missing path and for a stale socket file", async () => {
    const dir = await tempDir();
    const missing = await runCli(["unix-dgram-client", "--path", join(dir, "missing.sock")]);
    expect(missing).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `socklab unix-dgram-client: Cannot connect to "${join(dir, "missing.sock")}": no such socket (nothing is bound to this path)\n`,
    });
    const maker = runPython(STALE_MAKER, [join(dir, "stale.sock")]);
    expect(await maker.exited).toBe(0);
    const stale = await runCli(["unix-dgram-client", "--path", join(dir, "stale.sock")]);
    expect(stale).toMatchObject({
      code: 1,
      stderr: `socklab unix-dgram-client: Cannot connect to "${join(dir, "stale.sock")}": nobody is bound to it (a stale socket file, or a file that is not a socket)\n`,
    });
  });

  test("bad option values are usage errors (exit 2)", async () => {
    const r = await runCli(["unix-dgram-client", "--message", "\\q"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^socklab unix-dgram-client: Cannot read escape "\\q" at position 0/);
  });
});
