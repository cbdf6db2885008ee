import { lstat, mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { closeAfterTest, startTutorialServer, testDir } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { makeStaleSocket, startBoundPythonSender } from "./_test_python.ts";
import { bindUnixDgram } from "./bind_unix_dgram.ts";
import { openUnixDgram } from "./open_unix_dgram.ts";
import { unixDgramSendLimit } from "./unix_dgram_limits.ts";

const tempDir = () => testDir("socklab-ud");
const closeLater = closeAfterTest;

describe("openUnixDgram()", () => {
  test("sends Hallo Welt! to the tutorial's server (listing 3.10), which prints it", async () => {
    const dir = await tempDir();
    const path = join(dir, "unixsocket_udp");
    const { python } = await startTutorialServer("3.10 unix dgram server", { path });
    onTestFinished(() => python.kill());
    const client = closeLater(await openUnixDgram());
    await client.send(Buffer.from("Hallo Welt!"), path);
    expect(await python.exited).toBe(0);
    // An unbound sender has no address: Python shows None.
    expect(python.lines.at(-1)).toBe("b'Hallo Welt!' None");
    // Listing 3.10 unlinks its own path at the end.
    await expect(lstat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test('bind: "auto" binds a private path the tutorial server sees; close removes it and its dir', async () => {
    const dir = await tempDir();
    const path = join(dir, "unixsocket_udp");
    const { python } = await startTutorialServer("3.10 unix dgram server", { path });
    onTestFinished(() => python.kill());
    const client = closeLater(await openUnixDgram({ bind: "auto" }));
    const own = client.path!;
    expect((await stat(dirname(own))).mode & 0o777).toBe(0o700);
    expect((await stat(own)).mode & 0o777).toBe(0o600);
    await client.send("Hallo Welt!", path);
    expect(await python.exited).toBe(0);
    expect(python.lines.at(-1)).toBe(`b'Hallo Welt!' ${own}`);
    await client.close();
    await expect(lstat(dirname(own))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("a bound Python sender gets the reply sent to the path it arrived from", async () => {
    const dir = await tempDir();
    const path = join(dir, "server.sock");
    const server = closeLater(await bindUnixDgram({ path }));
    const python = startBoundPythonSender(path, join(dir, "python.sock"), "Hallo Welt!");
    onTestFinished(() => python.kill());
    const { data, from } = await server.receive();
    expect(from).toBe(join(dir, "python.sock"));
    await server.send(Buffer.concat([Buffer.from("echo: "), data]), from);
    await python.waitForLine(new RegExp(`^reply b'echo: Hallo Welt!' '${path}'$`));
  });

  test("connect: send() needs no destination, replies come back, strangers are refused (EPERM)", async () => {
    const dir = await tempDir();
    const path = join(dir, "server.sock");
    const server = closeLater(await bindUnixDgram({ path }));
    const client = closeLater(await openUnixDgram({ bind: "auto", connect: path }));
    expect(client.peer).toBe(path);
    await client.send("ping");
    const { data, from } = await server.receive();
    await server.send(data, from);
    expect((await client.receive({ timeoutMs: 5000 })).data.toString()).toBe("ping");
    const stranger = closeLater(await openUnixDgram());
    await expect(stranger.send("hi", client.path)).rejects.toMatchObject({
      code: "EPERM",
      message: `Cannot send to "${client.path}": operation not permitted (the receiver is connected to another socket)`,
    });
  });

  test("connect to a missing path or a stale file fails with a named error", async () => {
    const dir = await tempDir();
    await expect(openUnixDgram({ connect: join(dir, "missing.sock") })).rejects.toMatchObject({
      code: "ENOENT",
      message: `Cannot connect to "${join(dir, "missing.sock")}": no such socket (nothing is bound to this path)`,
    });
    await makeStaleSocket(join(dir, "stale.sock"));
    await expect(openUnixDgram({ connect: join(dir, "stale.sock") })).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
  });

  test("a failed connect leaves no auto-bound temp dir behind", async () => {
    const dir = await tempDir();
    const scratch = join(dir, "tmp");
    await mkdir(scratch);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = scratch; // where os.tmpdir() and so "auto" put the private dir
    onTestFinished(() => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });
    await expect(
      openUnixDgram({ bind: "auto", connect: join(dir, "missing.sock") }),
    ).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(scratch)).toEqual([]);
  });

  test.each([
    [{ sendTimeoutMs: 0 }, "ERR_SOCKLAB_INVALID_TIMEOUT"],
    [{ maxDatagramSize: unixDgramSendLimit() + 1 }, "ERR_SOCKLAB_INVALID_SIZE"],
    [{ maxDatagramSize: -1 }, "ERR_SOCKLAB_INVALID_SIZE"],
    [{ mode: 0o1000 }, "ERR_SOCKLAB_INVALID_MODE"],
  ])("rejects %o with a RangeError", async (options, code) => {
    await expect(openUnixDgram(options)).rejects.toMatchObject({ name: "RangeError", code });
  });
});
