import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { AddressInUseError, NotASocketError } from "./errors.ts";
import { listenStream } from "./server_socket.ts";
import { withStrictUmask } from "./socket_file.ts";
import { inspectUnixPath, prepareUnixPath } from "./stale_socket_file.ts";
import { unixSocketPath } from "./unix_path.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "socklab-core-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A Python process that binds a UNIX socket (and listens, unless told), says "ready", and waits to be killed. */
async function pythonBinder(
  path: string,
  type: "STREAM" | "DGRAM",
  listen = type === "STREAM",
): Promise<ChildProcess> {
  const code = [
    "import socket, sys",
    `s = socket.socket(socket.AF_UNIX, socket.SOCK_${type})`,
    "s.bind(sys.argv[1])",
    listen ? "s.listen(1)" : "",
    "print('ready', flush=True)",
    "sys.stdin.read()",
  ].join("\n");
  const child = spawn("python3", ["-c", code, path], { stdio: ["pipe", "pipe", "inherit"] });
  cleanups.push(() => child.kill("SIGKILL"));
  let said = "";
  for await (const chunk of child.stdout!) {
    said += chunk;
    if (said.includes("\n")) break;
  }
  expect(said).toBe("ready\n");
  return child;
}

async function listen(path: string): Promise<Server> {
  const server = createServer((c) => c.end("still here\n"));
  server.listen(path);
  await once(server, "listening");
  cleanups.push(() => new Promise((r) => server.close(r)));
  return server;
}

async function ask(path: string): Promise<string> {
  const c = createConnection(path);
  let text = "";
  for await (const chunk of c) text += chunk;
  return text;
}

describe("inspectUnixPath() and prepareUnixPath()", () => {
  test("a free path is fine and nothing is removed", async () => {
    const path = join(await tempDir(), "s");
    expect(await inspectUnixPath(path)).toEqual({ state: "free" });
    expect(await prepareUnixPath({ path, abstract: false })).toEqual({ removedStale: false });
  });

  test("a socket left by a killed Python server is stale and gets removed", async () => {
    const path = join(await tempDir(), "s");
    const child = await pythonBinder(path, "STREAM");
    child.kill("SIGKILL");
    await once(child, "exit");
    expect((await stat(path)).isSocket()).toBe(true);
    expect(await inspectUnixPath(path)).toEqual({ state: "stale" });
    expect(await prepareUnixPath({ path, abstract: false })).toEqual({ removedStale: true });
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    await listen(path); // and the path binds again
  });

  test("a live stream server is refused, named by its pid, and keeps answering", async () => {
    const path = join(await tempDir(), "s");
    await listen(path);
    expect(await inspectUnixPath(path)).toEqual({
      state: "live",
      type: "stream",
      listening: true,
      pid: process.pid,
    });
    const attempt = prepareUnixPath({ path, abstract: false });
    await expect(attempt).rejects.toBeInstanceOf(AddressInUseError);
    await expect(attempt).rejects.toThrow(
      `Cannot bind "${path}": a live socket is there (held by pid ${process.pid}, listening)`,
    );
    expect(await ask(path)).toBe("still here\n");
  });

  test("a live datagram socket (Python) is refused and not removed", async () => {
    const path = join(await tempDir(), "d");
    const child = await pythonBinder(path, "DGRAM");
    expect(await inspectUnixPath(path)).toEqual({
      state: "live",
      type: "datagram",
      listening: false,
      pid: child.pid,
    });
    await expect(prepareUnixPath({ path, abstract: false })).rejects.toBeInstanceOf(
      AddressInUseError,
    );
    expect((await stat(path)).isSocket()).toBe(true);
  });

  test("a one-shot Python server is detected as live without connecting to it", async () => {
    const path = join(await tempDir(), "s");
    const child = await pythonBinder(path, "STREAM");
    await expect(prepareUnixPath({ path, abstract: false })).rejects.toBeInstanceOf(
      AddressInUseError,
    );
    expect(child.exitCode).toBeNull();
  });

  test("a socket bound and not listening yet (Python) is live, not stale: refused and kept", async () => {
    const path = join(await tempDir(), "s");
    const child = await pythonBinder(path, "STREAM", false);
    // A connect is refused (ECONNREFUSED), as for a stale file; /proc/net/unix knows better.
    const attempt = prepareUnixPath({ path, abstract: false });
    await expect(attempt).rejects.toBeInstanceOf(AddressInUseError);
    await expect(attempt).rejects.toThrow(
      `Cannot bind "${path}": a live socket is there (held by pid ${child.pid}, bound and not listening yet: not stale while a process holds it)`,
    );
    expect((await stat(path)).isSocket()).toBe(true);
  });

  test("a regular file is refused and its content stays", async () => {
    const path = join(await tempDir(), "file");
    await writeFile(path, "precious");
    expect(await inspectUnixPath(path)).toEqual({ state: "not-socket", kind: "a regular file" });
    const attempt = prepareUnixPath({ path, abstract: false });
    await expect(attempt).rejects.toBeInstanceOf(NotASocketError);
    await expect(attempt).rejects.toThrow(
      `Cannot use "${path}" as a socket: it is a regular file, not a socket; remove it yourself if it is not needed`,
    );
    expect(await readFile(path, "utf8")).toBe("precious");
  });

  test("a directory is refused and stays", async () => {
    const path = join(await tempDir(), "dir");
    await mkdir(path);
    await expect(prepareUnixPath({ path, abstract: false })).rejects.toThrow(
      /it is a directory, not a socket/,
    );
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  test("a missing directory is named as such, not as a permission problem", async () => {
    const path = join(await tempDir(), "no-such-dir", "s");
    await expect(prepareUnixPath({ path, abstract: false })).rejects.toThrow(
      `Cannot bind "${path}": no such file or directory`,
    );
  });

  test("an overlong path is refused before bind", async () => {
    const path = join(await tempDir(), "x".repeat(110));
    await expect(prepareUnixPath({ path, abstract: false })).rejects.toMatchObject({
      code: "ERR_SOCKLAB_PATH_TOO_LONG",
    });
  });

  test("an abstract name needs no file and binds", async () => {
    const name = `socklab-test-${process.pid}-${Date.now()}`;
    expect(await prepareUnixPath({ path: name, abstract: true })).toEqual({ removedStale: false });
    await listen(unixSocketPath({ path: name, abstract: true }));
    expect(await ask(`\0${name}`)).toBe("still here\n");
  });
});

describe("listenStream() socket files", () => {
  test("stop() removes the socket file we created", async () => {
    const path = join(await tempDir(), "s");
    const listener = await listenStream(createServer(), { path });
    expect(await listener.stop()).toBe(true);
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("stop() leaves a regular file put at the path meanwhile", async () => {
    const path = join(await tempDir(), "s");
    const listener = await listenStream(createServer(), { path });
    await rm(path);
    await writeFile(path, "precious");
    expect(await listener.stop()).toBe(false);
    expect(await readFile(path, "utf8")).toBe("precious");
  });

  test("stop() leaves another server's live socket put at the path meanwhile", async () => {
    const path = join(await tempDir(), "s");
    const listener = await listenStream(createServer(), { path });
    await rm(path);
    await listen(path);
    expect(await listener.stop()).toBe(false);
    expect(await ask(path)).toBe("still here\n");
  });

  test("the file is born with its mode, even under umask 0", async () => {
    const path = join(await tempDir(), "s");
    const previous = process.umask(0);
    try {
      const node = createServer();
      cleanups.push(() => new Promise((r) => node.close(r)));
      const bornWith = withStrictUmask(0o600, () => {
        node.listen(path);
        // listen() has bound synchronously: this is the mode before any chmod.
        return stat(path);
      });
      expect((await bornWith).mode & 0o777).toBe(0o600);
    } finally {
      expect(process.umask(previous)).toBe(0);
    }
  });
});
