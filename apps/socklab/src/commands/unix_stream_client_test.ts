import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { chmod, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { makeTempDir, requireTools, startTutorialServer } from "@socklab/core/testing";
import { describe, type TestContext, test } from "vitest";
import { runCli, SOCKLAB_BIN, startCli, startServer } from "../_test_cli.ts";

/** Registers cleanup with the running test (concurrent tests need the context's hook). */
type Finished = TestContext["onTestFinished"];

async function tempPath(finished: Finished, name = "s"): Promise<{ dir: string; path: string }> {
  const dir = await makeTempDir("socklab-usc");
  finished(dir.remove);
  return { dir: dir.path, path: join(dir.path, name) };
}

async function ourServer(finished: Finished, args: readonly string[]) {
  const cli = await startServer(["unix-stream-server", ...args]);
  finished(() => void cli.stop("SIGKILL"));
  return cli;
}

/** A bare Node server that sends `reply` to each client and closes after the client's FIN. */
async function replyServer(finished: Finished, path: string, reply: Uint8Array): Promise<void> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.resume();
    socket.on("end", () => socket.end(reply));
  });
  server.listen(path);
  await once(server, "listening");
  finished(() => new Promise<void>((r) => server.close(() => r())));
}

const isRoot = process.getuid?.() === 0;

describe.concurrent("socklab unix-stream-client", () => {
  test("sends Hallo Welt! to the tutorial's server (listing 3.6), which prints b'Hallo Welt!'", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const { python } = await startTutorialServer("3.6 unix stream server", { path });
    onTestFinished(() => python.kill());
    const r = await runCli(["unix-stream-client", "--path", path]);
    expect(r).toMatchObject({ code: 0, stdout: "", stderr: `sent 11 bytes to ${path}\n` });
    expect(await python.exited).toBe(0);
    expect(python.lines.at(-1)).toBe("b'Hallo Welt!'");
  });

  test("repeats the tutorial's exchange with socklab's own server", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    const server = await ourServer(onTestFinished, ["--path", path, "--once"]);
    const r = await runCli(["unix-stream-client", "--path", path]);
    expect(r.code).toBe(0);
    const done = await server.result;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("\nHallo Welt!\nclosed (11 bytes)\n");
  });

  test("prints the reply after half-closing; --message understands escapes", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await ourServer(onTestFinished, ["--path", path, "--echo", "--quiet"]);
    const r = await runCli(["unix-stream-client", "--path", path, "--message", "tab\\there\\n"]);
    expect(r).toMatchObject({ code: 0, stdout: "tab\there\n" });
  });

  test("--repr prints the reply as a Python bytes literal", async ({ expect, onTestFinished }) => {
    const { path } = await tempPath(onTestFinished);
    await replyServer(onTestFinished, path, Uint8Array.of(0xff, 0x00, 0x68, 0x69, 0x0a));
    const r = await runCli(["unix-stream-client", "--path", path, "--repr"]);
    expect(r).toMatchObject({ code: 0, stdout: "b'\\xff\\x00hi\\n'\n" });
  });

  test("--stdin round-trips 1 MiB of binary through --echo, byte for byte", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await ourServer(onTestFinished, ["--path", path, "--echo", "--quiet"]);
    const input = randomBytes(1024 * 1024);
    const cli = spawn(
      process.execPath,
      [SOCKLAB_BIN, "unix-stream-client", "--path", path, "--stdin"],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const chunks: Buffer[] = [];
    cli.stdout.on("data", (c: Buffer) => chunks.push(c));
    let err = "";
    cli.stderr.on("data", (c: Buffer) => {
      err += c;
    });
    const closed = once(cli, "close");
    cli.stdin.end(input);
    expect(await closed).toEqual([0, null]);
    expect(err).toBe("");
    expect(Buffer.concat(chunks).equals(input)).toBe(true);
  });

  test("--stdin stops on SIGINT with exit code 0 after passing on what it had", async ({
    expect,
    onTestFinished,
  }) => {
    const { path } = await tempPath(onTestFinished);
    await ourServer(onTestFinished, ["--path", path, "--echo", "--quiet"]);
    const cli = startCli(["unix-stream-client", "--path", path, "--stdin"]);
    cli.child.stdin.write("typed\n"); // stdin stays open, as on a terminal
    await cli.waitForLine(/^typed$/);
    const result = await cli.stop("SIGINT");
    expect(result).toMatchObject({ code: 0, stdout: "typed\n", stderr: "" });
  });

  test("--message reaches socat UNIX-LISTEN byte for byte", async ({
    expect,
    onTestFinished,
    skip,
  }) => {
    requireTools(skip, "socat");
    const { path } = await tempPath(onTestFinished);
    const socat = spawn("socat", ["-d", "-d", `UNIX-LISTEN:${path}`, "-"]);
    onTestFinished(() => void socat.kill("SIGKILL"));
    const closed = once(socat, "close");
    socat.stdin.end();
    const out: Buffer[] = [];
    socat.stdout.on("data", (c: Buffer) => out.push(c));
    let err = "";
    await new Promise<void>((resolve) => {
      socat.stderr.on("data", (c: Buffer) => {
        err += c;
        if (err.includes("listening on")) resolve();
      });
    });
    const r = await runCli([
      "unix-stream-client",
      "--path",
      path,
      "--message",
      "\\x00\\xffbin\\r\\n",
    ]);
    expect(r.code).toBe(0);
    await closed;
    expect(Buffer.concat(out)).toEqual(Buffer.from([0x00, 0xff, 0x62, 0x69, 0x6e, 0x0d, 0x0a]));
  });

  test("--json reports connected, sent, data and closed", async ({ expect, onTestFinished }) => {
    const { path } = await tempPath(onTestFinished);
    await replyServer(onTestFinished, path, Buffer.from("ok\n"));
    const r = await runCli(["unix-stream-client", "--path", path, "--json"]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(["connected", "sent", "data", "closed"]);
    expect(events[2]).toMatchObject({ bytes: 3, text: "ok\n" });
    expect(events[3]).toMatchObject({ path, sent: 11, received: 3 });
  });

  test("connects to an abstract name @name", async ({ expect, onTestFinished }) => {
    const name = `socklab-usc-${process.pid}-${Date.now()}`;
    await ourServer(onTestFinished, ["--path", `@${name}`, "--echo", "--quiet"]);
    const r = await runCli(["unix-stream-client", "--path", `@${name}`]);
    expect(r).toMatchObject({
      code: 0,
      stdout: "Hallo Welt!",
      stderr: `sent 11 bytes to @${name}\n`,
    });
  });
});

describe.concurrent("socklab unix-stream-client errors", () => {
  test("no such socket: one line, exit 1", async ({ expect, onTestFinished }) => {
    const { path } = await tempPath(onTestFinished);
    const r = await runCli(["unix-stream-client", "--path", path]);
    expect(r).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `socklab unix-stream-client: Cannot connect to "${path}": no such file or directory (is the server running?)\n`,
    });
  });

  test("a regular file: not a socket, exit 1", async ({ expect, onTestFinished }) => {
    const { path } = await tempPath(onTestFinished);
    await writeFile(path, "x");
    const r = await runCli(["unix-stream-client", "--path", path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `socklab unix-stream-client: Cannot connect to "${path}": it is a regular file, not a socket (check the path)\n`,
    );
  });

  test.runIf(isRoot)(
    "permission denied for another user on a 0600 socket, exit 1",
    async ({ expect, onTestFinished }) => {
      const { dir, path } = await tempPath(onTestFinished);
      await chmod(dir, 0o755);
      await ourServer(onTestFinished, ["--path", path]);
      const child = spawn(process.execPath, [SOCKLAB_BIN, "unix-stream-client", "--path", path], {
        uid: 65534,
        gid: 65534,
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (c: Buffer) => {
        err += c;
      });
      expect((await once(child, "close"))[0]).toBe(1);
      expect(err).toBe(
        `socklab unix-stream-client: Cannot connect to "${path}": permission denied (connecting needs write permission on the socket file and search permission on its directories)\n`,
      );
    },
  );

  test("--stdin with --message is a usage error", async ({ expect }) => {
    const r = await runCli(["unix-stream-client", "--stdin", "--message", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^socklab unix-stream-client: Cannot send both --message and --stdin/);
  });

  test("a bad escape in --message is a usage error", async ({ expect }) => {
    const r = await runCli(["unix-stream-client", "--message", "\\q"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^socklab unix-stream-client: Cannot read escape "\\q" at position 0/);
  });
});
