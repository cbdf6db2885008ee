import { lstat, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AddressInUseError, NotASocketError } from "@socklab/core";
import { closeAfterTest, runPython, testDir, tutorialListing } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { pythonSend, startPrintingReceiver } from "./_test_python.ts";
import { bindUnixDgram } from "./bind_unix_dgram.ts";
import { openUnixDgram } from "./open_unix_dgram.ts";

const tempDir = () => testDir("socklab-ud");
const closeLater = closeAfterTest;

/** Binds a path, says so, and waits to be killed (it never reads). */
const BINDER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
`;

describe("bindUnixDgram()", () => {
  test("receives the tutorial client's datagram (listing 3.11): Hallo Welt!, from an unbound sender", async () => {
    const dir = await tempDir();
    const path = join(dir, "unixsocket_udp");
    const server = closeLater(await bindUnixDgram({ path }));
    const client = runPython(tutorialListing("3.11 unix dgram client", { path }));
    expect(await client.exited).toBe(0);
    expect(await server.receive()).toEqual({
      data: Buffer.from("Hallo Welt!"),
      from: undefined,
      truncated: false,
    });
  });

  test("gives the file mode 0o600 by default or as asked, and removes the file on close", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "a.sock") }));
    const shared = closeLater(await bindUnixDgram({ path: join(dir, "b.sock"), mode: 0o660 }));
    expect(server.path).toBe(join(dir, "a.sock"));
    expect((await stat(join(dir, "a.sock"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "b.sock"))).mode & 0o777).toBe(0o660);
    expect((await stat(join(dir, "a.sock"))).isSocket()).toBe(true);
    await server.close();
    await shared.close();
    await expect(lstat(join(dir, "a.sock"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(lstat(join(dir, "b.sock"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("removes the stale file a Python binder killed with SIGKILL left, and serves", async () => {
    const dir = await tempDir();
    const path = join(dir, "stale.sock");
    const binder = runPython(BINDER, [path]);
    await binder.waitForLine(/^ready$/);
    await binder.kill("SIGKILL");
    expect((await lstat(path)).isSocket()).toBe(true);
    const server = closeLater(await bindUnixDgram({ path }));
    expect(server.removedStale).toBe(true);
    await pythonSend(path, [Buffer.from("after the crash")]);
    expect((await server.receive()).data.toString()).toBe("after the crash");
  });

  test("refuses a path a live Python program is bound to, which keeps receiving", async () => {
    const dir = await tempDir();
    const path = join(dir, "live.sock");
    const python = await startPrintingReceiver(path);
    onTestFinished(() => python.kill());
    const error = await bindUnixDgram({ path }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AddressInUseError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Cannot bind "${path}": a live socket is there \\(held by pid \\d+, a datagram socket\\)$`,
      ),
    );
    const client = closeLater(await openUnixDgram());
    await client.send("still yours", path);
    await python.waitForLine(/^11 b'still yours' /);
  });

  test("refuses a regular file and leaves its content unchanged", async () => {
    const dir = await tempDir();
    const path = join(dir, "notes.txt");
    await writeFile(path, "keep me");
    const error = await bindUnixDgram({ path }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(NotASocketError);
    expect((error as Error).message).toBe(
      `Cannot use "${path}" as a socket: it is a regular file, not a socket; remove it yourself if it is not needed`,
    );
    expect(await readFile(path, "utf8")).toBe("keep me");
  });

  test("names the error when the directory does not exist", async () => {
    const dir = await tempDir();
    const path = join(dir, "missing", "s.sock");
    await expect(bindUnixDgram({ path })).rejects.toMatchObject({
      name: "SocketError",
      code: "ENOENT",
      message: `Cannot bind "${path}": no such file or directory`,
    });
  });

  test("refuses a path over 107 bytes before touching anything", async () => {
    await expect(bindUnixDgram({ path: `/tmp/${"x".repeat(103)}` })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_PATH_TOO_LONG",
    });
  });

  test("binds Linux abstract names: no file, replies between two abstract sockets, names taken once", async () => {
    const name = `socklab-test-${process.pid}-${Date.now()}`;
    const server = closeLater(await bindUnixDgram({ path: name, abstract: true }));
    expect(server.path).toBe(`@${name}`);
    const client = closeLater(await openUnixDgram({ bind: `@${name}-client` }));
    await client.send("Hallo Welt!", `@${name}`);
    const got = await server.receive({ timeoutMs: 2000 });
    expect([got.data.toString(), got.from]).toEqual(["Hallo Welt!", `@${name}-client`]);
    await server.send("Hallo zurück!", got.from);
    expect((await client.receive({ timeoutMs: 2000 })).data.toString()).toBe("Hallo zurück!");
    await expect(bindUnixDgram({ path: name, abstract: true })).rejects.toMatchObject({
      code: "EADDRINUSE",
      message: `Cannot bind "@${name}": address already in use`,
    });
  });

  test("close() leaves alone a socket file another program has put at the path since", async () => {
    const dir = await tempDir();
    const path = join(dir, "taken-over.sock");
    const server = closeLater(await bindUnixDgram({ path }));
    await rm(path);
    const python = await startPrintingReceiver(path);
    onTestFinished(() => python.kill());
    await server.close();
    expect((await lstat(path)).isSocket()).toBe(true);
  });

  test("rejects a bad mode", async () => {
    const dir = await tempDir();
    await expect(bindUnixDgram({ path: join(dir, "m.sock"), mode: 0o1777 })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_INVALID_MODE",
      message: "Cannot use file mode 0o1777: expected 0o000 to 0o777",
    });
  });
});
