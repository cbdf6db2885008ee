import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import {
  AddressInUseError,
  NotASocketError,
  type StreamConnection,
  UNIX_PATH_MAX,
} from "@socklab/core";
import { requireTools, runPython, tutorialListing } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import {
  exchange,
  pythonBinder,
  pythonServer,
  staleSocketFile,
  tempPath,
} from "./_test_support.ts";
import { connectUnix } from "./connect_unix.ts";
import { type ListenUnixOptions, listenUnix } from "./listen_unix.ts";

const echo = async (conn: StreamConnection): Promise<void> => {
  for await (const chunk of conn) await conn.write(chunk);
};

async function start(options: Partial<ListenUnixOptions> & { path: string }) {
  const server = await listenUnix({ handler: echo, ...options });
  onTestFinished(() => server.close({ graceMs: 100 }).then(() => undefined));
  return server;
}

async function modeOf(path: string): Promise<number> {
  return (await lstat(path)).mode & 0o777;
}

const isRoot = process.getuid?.() === 0;

/** Runs a Python connect to `path` as user nobody; resolves with "ok" or the errno name. */
async function connectAsNobody(path: string): Promise<string> {
  const child = spawn(
    "python3",
    [
      "-c",
      [
        "import errno, socket, sys",
        "c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "try:",
        "    c.connect(sys.argv[1]); print('ok')",
        "except OSError as e:",
        "    print(errno.errorcode[e.errno])",
      ].join("\n"),
      path,
    ],
    { uid: 65534, gid: 65534, stdio: ["ignore", "pipe", "inherit"] },
  );
  let said = "";
  child.stdout.on("data", (chunk: Buffer) => {
    said += chunk;
  });
  await once(child, "close");
  return said.trim();
}

describe("listenUnix()", () => {
  test("serves a connection on the path and reports the path as the local end", async () => {
    const { path } = await tempPath();
    const locals: string[] = [];
    const server = await start({
      path,
      handler: async (conn) => {
        locals.push(conn.local);
        await echo(conn);
      },
    });
    expect(server.address).toBe(`unix://${path}`);
    expect(server.label).toBe(path);
    expect(server.removedStale).toBe(false);
    expect((await exchange(path, "Hallo Welt!")).toString()).toBe("Hallo Welt!");
    expect(locals).toEqual([path]);
  });

  test("creates the socket file with mode 0600 by default", async () => {
    const { path } = await tempPath();
    const server = await start({ path });
    expect(server.mode).toBe(0o600);
    expect(await modeOf(path)).toBe(0o600);
  });

  test("gives the socket file the mode asked for, 0660, even against a stricter umask", async () => {
    const { path } = await tempPath();
    const previous = process.umask(0o077);
    try {
      await start({ path, mode: 0o660 });
    } finally {
      process.umask(previous);
    }
    expect(await modeOf(path)).toBe(0o660);
  });

  test.runIf(isRoot)("mode 0600 keeps other users out, 0666 lets them in", async () => {
    const { dir, path } = await tempPath();
    await chmod(dir, 0o755);
    await start({ path });
    expect(await connectAsNobody(path)).toBe("EACCES");
    const open = join(dir, "open");
    await start({ path: open, mode: 0o666 });
    expect(await connectAsNobody(open)).toBe("ok");
  });

  test("rejects a mode that is not permission bits", async () => {
    const { dir, path } = await tempPath();
    await expect(listenUnix({ path, mode: 0o1777, handler: echo })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_INVALID_MODE",
    });
    expect(await readdir(dir)).toEqual([]);
  });

  test("removes its socket file on close", async () => {
    const { dir, path } = await tempPath();
    const server = await listenUnix({ path, handler: echo });
    expect(await server.close()).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(await server.close()).toBe(true); // same answer again
  });

  test("removes its socket file on close even after someone changed its mode", async () => {
    const { dir, path } = await tempPath();
    const server = await listenUnix({ path, handler: echo });
    await chmod(path, 0o666);
    expect(await server.close()).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  test("close() leaves a socket another server put at the path, and that server keeps answering", async () => {
    const { path } = await tempPath();
    const server = await listenUnix({ path, handler: echo });
    await rm(path); // someone deletes our file and starts another server there
    await pythonServer(path);
    expect(await server.close()).toBe(false);
    expect((await lstat(path)).isSocket()).toBe(true);
    expect((await exchange(path, "hi")).toString()).toBe("still here: hi");
  });

  test("close() leaves a regular file someone put at the path", async () => {
    const { dir, path } = await tempPath();
    const server = await listenUnix({ path, handler: echo });
    await rm(path);
    await writeFile(path, "precious\n");
    expect(await server.close()).toBe(false);
    expect(await readFile(path, "utf8")).toBe("precious\n");
    expect(await readdir(dir)).toEqual(["s"]); // and no leftover from keeping it
  });

  test("removes a stale socket file left by a Python server killed with SIGKILL, then serves", async () => {
    const { path } = await tempPath();
    await staleSocketFile(path);
    expect((await lstat(path)).isSocket()).toBe(true);
    const server = await start({ path });
    expect(server.removedStale).toBe(true);
    expect((await exchange(path, "again")).toString()).toBe("again");
  });

  test("refuses a path a live Python server listens on, and the live one keeps answering", async () => {
    const { path } = await tempPath();
    const python = await pythonServer(path);
    const attempt = listenUnix({ path, handler: echo });
    await expect(attempt).rejects.toBeInstanceOf(AddressInUseError);
    await expect(attempt).rejects.toThrow(
      `Cannot bind "${path}": a live socket is there (held by pid ${python.child.pid}, listening)`,
    );
    expect((await exchange(path, "hi")).toString()).toBe("still here: hi");
  });

  test("refuses a second server on the path while the first runs; the first keeps serving", async () => {
    const { path } = await tempPath();
    const first = await start({ path });
    await expect(listenUnix({ path, handler: echo })).rejects.toBeInstanceOf(AddressInUseError);
    expect((await exchange(path, "still mine")).toString()).toBe("still mine");
    expect(first.stats.accepted).toBe(1); // no probe connection reached it
  });

  test("refuses a path a datagram socket is bound to", async () => {
    const { path } = await tempPath();
    await pythonBinder(path, "DGRAM");
    await expect(listenUnix({ path, handler: echo })).rejects.toBeInstanceOf(AddressInUseError);
    expect((await lstat(path)).isSocket()).toBe(true);
  });

  test("refuses a regular file and leaves its content unchanged", async () => {
    const { path } = await tempPath();
    await writeFile(path, "not a socket\n");
    const attempt = listenUnix({ path, handler: echo });
    await expect(attempt).rejects.toBeInstanceOf(NotASocketError);
    await expect(attempt).rejects.toThrow(
      `Cannot use "${path}" as a socket: it is a regular file, not a socket; remove it yourself if it is not needed`,
    );
    expect(await readFile(path, "utf8")).toBe("not a socket\n");
  });

  test("refuses a directory and leaves it in place", async () => {
    const { path } = await tempPath();
    await mkdir(path);
    await writeFile(join(path, "inside"), "x");
    await expect(listenUnix({ path, handler: echo })).rejects.toThrow("it is a directory");
    expect(await readdir(path)).toEqual(["inside"]);
  });

  test("refuses a path longer than the kernel allows before bind", async () => {
    const { dir } = await tempPath();
    const path = join(dir, "x".repeat(UNIX_PATH_MAX));
    await expect(listenUnix({ path, handler: echo })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_PATH_TOO_LONG",
    });
    expect(await readdir(dir)).toEqual([]);
  });

  test("listens on an abstract name: serves, leaves no file, and is gone after close", async () => {
    const { dir } = await tempPath();
    const name = `socklab-test-${process.pid}-${Date.now()}`;
    const server = await listenUnix({ path: name, abstract: true, handler: echo });
    expect(server.address).toBe(`unix:@${name}`);
    expect(server.label).toBe(`@${name}`);
    expect(server.mode).toBeUndefined();
    // connectUnix reaches the exact name on every Node (Node 20's own `net` would pad it).
    const conn = await connectUnix({ path: name, abstract: true });
    await conn.end("abstract");
    expect((await conn.readToEnd()).toString()).toBe("abstract");
    await conn.close();
    expect(await readdir(dir)).toEqual([]);
    expect(await server.close()).toBe(false);
    await expect(connectUnix({ path: name, abstract: true })).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
  });

  test("serves 200 concurrent clients, each getting its own bytes back", async () => {
    const { path } = await tempPath();
    await start({ path, backlog: 256 });
    const payloads = Array.from({ length: 200 }, (_, i) => Buffer.alloc(1000 + i * 37, i));
    const answers = await Promise.all(payloads.map((p) => exchange(path, p)));
    for (const [i, answer] of answers.entries()) expect(answer.equals(payloads[i]!)).toBe(true);
  });

  test("refuses connections over maxConnections with onRefused's answer and keeps serving", async () => {
    const { path } = await tempPath();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const server = await start({
      path,
      maxConnections: 1,
      onRefused: () => "busy\n",
      handler: async (conn) => {
        await conn.write("welcome\n");
        await held;
      },
    });
    const first = connect(path);
    await once(first, "data");
    expect((await exchange(path, "")).toString()).toBe("busy\n");
    expect(server.stats).toMatchObject({ accepted: 1, refused: 1, active: 1 });
    release();
    await once(first, "close");
  });

  test("reports a failing handler to onError and keeps serving", async () => {
    const { path } = await tempPath();
    const errors: Error[] = [];
    await start({
      path,
      onError: (err) => errors.push(err),
      handler: async (conn) => {
        const line = await conn.readUntil("\n", 100);
        if (line.toString() === "boom\n") throw new Error("handler bug");
        await conn.write(line);
      },
    });
    await exchange(path, "boom\n");
    expect((await exchange(path, "fine\n")).toString()).toBe("fine\n");
    expect(errors.map((e) => e.message)).toEqual(["handler bug"]);
  });

  test("close() lets a handler finish through its abort signal", async () => {
    const { path } = await tempPath();
    let aborted = false;
    const server = await listenUnix({
      path,
      handler: async (conn, { signal }) => {
        await conn.write("ready\n");
        await once(signal, "abort");
        aborted = true;
        await conn.write("bye\n");
      },
    });
    const socket = connect(path);
    await once(socket, "data");
    const rest = (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString();
    })();
    await server.close();
    expect(aborted).toBe(true);
    expect(await rest).toBe("bye\n");
  });
});

describe("listenUnix() with the tutorial's programs and tools", () => {
  test("receives the tutorial client's (listing 3.9) Hallo Welt!", async () => {
    const { path } = await tempPath();
    let received!: (data: Buffer) => void;
    const got = new Promise<Buffer>((resolve) => {
      received = resolve;
    });
    await start({ path, handler: async (conn) => received(await conn.readToEnd()) });
    const client = runPython(tutorialListing("3.9 unix stream client", { path }));
    onTestFinished(() => client.kill());
    expect(await client.exited).toBe(0);
    expect((await got).toString()).toBe("Hallo Welt!");
  });

  test("echoes to socat (UNIX-CONNECT)", async ({ skip }) => {
    requireTools(skip, "socat");
    const { path } = await tempPath();
    await start({ path });
    const socat = spawn("socat", ["-", `UNIX-CONNECT:${path}`]);
    socat.stdin.end("over socat\n");
    let out = "";
    socat.stdout.on("data", (chunk: Buffer) => {
      out += chunk;
    });
    const [code] = await once(socat, "close");
    expect(code).toBe(0);
    expect(out).toBe("over socat\n");
  });

  test("echoes to nc -U", async ({ skip }) => {
    requireTools(skip, "nc");
    const { path } = await tempPath();
    await start({ path });
    const nc = spawn("nc", ["-U", "-N", path]);
    nc.stdin.end("over nc\n");
    let out = "";
    nc.stdout.on("data", (chunk: Buffer) => {
      out += chunk;
    });
    const [code] = await once(nc, "close");
    expect(code).toBe(0);
    expect(out).toBe("over nc\n");
  });
});
