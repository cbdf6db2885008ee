import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { AddressInUseError, NotASocketError } from "./errors.ts";
import {
  inspectUnixPath,
  prepareUnixPath,
  removeSocketFile,
  socketFileIdentity,
  unixSocketPath,
} from "./unix_path.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "socklab-core-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A Python process that binds a UNIX socket, says "ready", and waits to be killed. */
async function pythonBinder(path: string, type: "STREAM" | "DGRAM"): Promise<ChildProcess> {
  const code = [
    "import socket, sys",
    `s = socket.socket(socket.AF_UNIX, socket.SOCK_${type})`,
    "s.bind(sys.argv[1])",
    type === "STREAM" ? "s.listen(1)" : "",
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

  test("a live stream server is refused and keeps answering", async () => {
    const path = join(await tempDir(), "s");
    await listen(path);
    expect(await inspectUnixPath(path)).toEqual({ state: "live", type: "stream" });
    const attempt = prepareUnixPath({ path, abstract: false });
    await expect(attempt).rejects.toBeInstanceOf(AddressInUseError);
    await expect(attempt).rejects.toThrow(
      `Cannot bind "${path}": address already in use (a running program listens on it)`,
    );
    expect(await ask(path)).toBe("still here\n");
  });

  test("a live datagram socket (Python) is refused and not removed", async () => {
    const path = join(await tempDir(), "d");
    await pythonBinder(path, "DGRAM");
    expect(await inspectUnixPath(path)).toEqual({ state: "live", type: "datagram" });
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

describe("removeSocketFile()", () => {
  test("removes the socket we created", async () => {
    const path = join(await tempDir(), "s");
    const child = await pythonBinder(path, "STREAM");
    const id = await socketFileIdentity(path);
    expect(id).toBeDefined();
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(await removeSocketFile(id!)).toBe(true);
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("leaves a socket another server has since put at the path", async () => {
    const dir = await tempDir();
    const path = join(dir, "s");
    const first = await pythonBinder(path, "STREAM");
    const id = await socketFileIdentity(path);
    first.kill("SIGKILL");
    await once(first, "exit");
    await prepareUnixPath({ path, abstract: false });
    await listen(path);
    expect(await removeSocketFile(id!)).toBe(false);
    expect(await ask(path)).toBe("still here\n");
  });
});
