import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { IncompleteReadError, SocketError, UNIX_PATH_MAX } from "@socklab/core";
import {
  type PythonProcess,
  requireTools,
  runPython,
  startTutorialServer,
} from "@socklab/core/testing";
import fc from "fast-check";
import { describe, expect, onTestFinished, test } from "vitest";
import { pythonBinder, staleSocketFile, tempPath } from "./_test_support.ts";
import { connectUnix } from "./connect_unix.ts";
import { listenUnix } from "./listen_unix.ts";

/** A bare Node server on `path` (not the code under test). */
async function nodeServer(path: string, onSocket: Parameters<typeof createServer>[1]) {
  const server: Server = createServer({ allowHalfOpen: true }, onSocket);
  server.listen(path);
  await once(server, "listening");
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return server;
}

/**
 * A Python server on the abstract name `name`, bound as Python, socat and nc
 * bind it (exactly, no padding): it answers each client with `python got: `
 * and what the client sent before it half-closed. With `backlog` 0 it never accepts.
 */
async function pythonAbstractServer(name: string, backlog = 16): Promise<PythonProcess> {
  const python = runPython(
    [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
      "s.bind('\\0' + sys.argv[1])",
      `s.listen(${backlog})`,
      "print('ready', flush=True)",
      backlog === 0 ? "sys.stdin.read()" : "",
      "while True:",
      "    c, _ = s.accept()",
      "    data = b''",
      "    while True:",
      "        chunk = c.recv(65536)",
      "        if not chunk: break",
      "        data += chunk",
      "    c.sendall(b'python got: ' + data)",
      "    c.close()",
    ].join("\n"),
    [name],
  );
  onTestFinished(() => python.kill());
  await python.waitForLine(/^ready$/);
  return python;
}

const isRoot = process.getuid?.() === 0;
const MOD = fileURLToPath(new URL("./mod.ts", import.meta.url));

describe("connectUnix()", () => {
  test("sends the tutorial's Hallo Welt! to its server (listing 3.6), which prints b'Hallo Welt!'", async () => {
    const { path } = await tempPath();
    const { python } = await startTutorialServer("3.6 unix stream server", { path });
    onTestFinished(() => python.kill());
    const conn = await connectUnix({ path });
    expect(conn.remote).toBe(path);
    await conn.end("Hallo Welt!");
    expect((await conn.readToEnd()).length).toBe(0); // it answers nothing and closes
    await conn.close();
    expect(await python.exited).toBe(0);
    expect(python.lines).toContain("b'Hallo Welt!'");
  });

  test("offers the whole stream API: readUntil, readExactly, recv, half-close, readToEnd", async () => {
    const { path } = await tempPath();
    await nodeServer(path, (socket) => {
      socket.write("line one\nABCD");
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("end", () => socket.end(`got ${Buffer.concat(chunks).length} bytes`));
    });
    const conn = await connectUnix({ path });
    expect((await conn.readUntil("\n", 100)).toString()).toBe("line one\n");
    expect((await conn.readExactly(2)).toString()).toBe("AB");
    expect((await conn.recv(10)).toString()).toBe("CD");
    await conn.write("12345");
    await conn.end("678");
    expect((await conn.readToEnd()).toString()).toBe("got 8 bytes");
    await expect(conn.readExactly(1)).rejects.toBeInstanceOf(IncompleteReadError);
    await conn.close();
  });

  test("round-trips any bytes through a listenUnix() echo server", async () => {
    const { path } = await tempPath();
    const server = await listenUnix({
      path,
      handler: async (conn) => {
        for await (const chunk of conn) await conn.write(chunk);
      },
    });
    onTestFinished(() => server.close().then(() => undefined));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 70_000 }), async (bytes) => {
        const conn = await connectUnix({ path });
        await conn.end(bytes);
        const back = await conn.readToEnd();
        await conn.close();
        expect(Buffer.compare(back, bytes)).toBe(0);
      }),
      { numRuns: 25 },
    );
  });

  test("reaches a Python server on an abstract name (bound exactly, as socat and nc bind too), bytes both ways", async () => {
    const name = `socklab-connect-python-${process.pid}-${Date.now()}`;
    await pythonAbstractServer(name);
    const conn = await connectUnix({ path: name, abstract: true });
    expect(conn.remote).toBe(`@${name}`);
    await conn.end("Hallo Welt!");
    expect((await conn.readToEnd()).toString()).toBe("python got: Hallo Welt!");
    await conn.close();
  });

  test("talks to socat ABSTRACT-LISTEN", async ({ skip }) => {
    requireTools(skip, "socat");
    const name = `socklab-connect-socat-${process.pid}-${Date.now()}`;
    const socat = spawn("socat", ["-d", "-d", `ABSTRACT-LISTEN:${name}`, "-"]);
    onTestFinished(() => void socat.kill("SIGKILL"));
    const closed = once(socat, "close");
    let out = "";
    socat.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    let err = "";
    await new Promise<void>((resolve, reject) => {
      socat.stderr.on("data", (c: Buffer) => {
        err += c;
        if (err.includes("listening on")) resolve();
      });
      socat.once("close", () => reject(new Error(`socat ended: ${err}`)));
    });
    const conn = await connectUnix({ path: name, abstract: true });
    socat.stdin.end("from socat\n");
    expect((await conn.readUntil("\n", 100)).toString()).toBe("from socat\n");
    await conn.end("to socat\n");
    await conn.readToEnd();
    await conn.close();
    expect(await closed).toEqual([0, null]);
    expect(out).toBe("to socat\n");
  });

  test("connects to an abstract name bound by Node's own net (padded on Node 20)", async () => {
    const name = `socklab-connect-${process.pid}-${Date.now()}`;
    await nodeServer(`\0${name}`, (socket) => socket.end("abstract hello"));
    const conn = await connectUnix({ path: name, abstract: true });
    expect(conn.remote).toBe(`@${name}`);
    expect((await conn.readToEnd()).toString()).toBe("abstract hello");
    await conn.close();
  });

  test("talks to socat UNIX-LISTEN both ways", async ({ skip }) => {
    requireTools(skip, "socat");
    const { path } = await tempPath();
    const socat = spawn("socat", ["-d", "-d", `UNIX-LISTEN:${path}`, "-"]);
    onTestFinished(() => void socat.kill("SIGKILL"));
    const closed = once(socat, "close");
    socat.stdin.write("from socat\n"); // socat sends this once a client is there
    let err = "";
    let out = "";
    socat.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    await new Promise<void>((resolve, reject) => {
      socat.stderr.on("data", (c: Buffer) => {
        err += c;
        if (err.includes("listening on")) resolve();
      });
      socat.once("close", () => reject(new Error(`socat ended: ${err}`)));
    });
    const conn = await connectUnix({ path });
    expect((await conn.readUntil("\n", 100)).toString()).toBe("from socat\n");
    await conn.end("to socat\n");
    socat.stdin.end();
    await conn.readToEnd();
    await conn.close();
    expect(await closed).toEqual([0, null]);
    expect(out).toBe("to socat\n");
  });
});

describe("connectUnix() errors", () => {
  test("no such socket: ENOENT with a hint", async () => {
    const { path } = await tempPath();
    const attempt = connectUnix({ path });
    await expect(attempt).rejects.toBeInstanceOf(SocketError);
    await expect(attempt).rejects.toMatchObject({
      code: "ENOENT",
      message: `Cannot connect to "${path}": no such file or directory (is the server running?)`,
    });
  });

  test("a stale socket file left by a killed server: says it is stale", async () => {
    const { path } = await tempPath();
    await staleSocketFile(path);
    await expect(connectUnix({ path })).rejects.toMatchObject({
      code: "ECONNREFUSED",
      message: `Cannot connect to "${path}": connection refused; it is a stale socket file nobody listens on (is the server running?)`,
    });
  });

  test("a regular file: says it is not a socket", async () => {
    const { path } = await tempPath();
    await writeFile(path, "text");
    await expect(connectUnix({ path })).rejects.toMatchObject({
      code: "ENOTSOCK",
      message: `Cannot connect to "${path}": it is a regular file, not a socket (check the path)`,
    });
  });

  test("a directory: says it is not a socket", async () => {
    const { path } = await tempPath();
    await mkdir(path);
    await expect(connectUnix({ path })).rejects.toThrow(
      `Cannot connect to "${path}": it is a directory, not a socket (check the path)`,
    );
  });

  test("a file where a directory should be: ENOTDIR", async () => {
    const { path } = await tempPath();
    await writeFile(path, "text");
    const inside = join(path, "s");
    await expect(connectUnix({ path: inside })).rejects.toMatchObject({
      code: "ENOTDIR",
      message: `Cannot connect to "${inside}": a part of the path is not a directory`,
    });
  });

  test("a datagram socket: EPROTOTYPE, says so", async () => {
    const { path } = await tempPath();
    await pythonBinder(path, "DGRAM");
    await expect(connectUnix({ path })).rejects.toMatchObject({
      code: "EPROTOTYPE",
      message: `Cannot connect to "${path}": a datagram socket is bound there, not a stream socket (use a UNIX datagram client)`,
    });
  });

  test("an abstract name nobody listens on", async () => {
    const name = `socklab-nobody-${process.pid}-${Date.now()}`;
    await expect(connectUnix({ path: name, abstract: true })).rejects.toMatchObject({
      code: "ECONNREFUSED",
      message: `Cannot connect to "@${name}": connection refused (nobody listens on this abstract name)`,
    });
  });

  test("an abstract name whose backlog is full: EAGAIN, says so", async () => {
    const name = `socklab-full-${process.pid}-${Date.now()}`;
    await pythonAbstractServer(name, 0); // listen(0), never accepts
    const held: Awaited<ReturnType<typeof connectUnix>>[] = [];
    onTestFinished(() => {
      for (const conn of held) conn.destroy();
    });
    let failure: unknown;
    for (let i = 0; i < 64 && failure === undefined; i++) {
      await connectUnix({ path: name, abstract: true }).then(
        (conn) => held.push(conn),
        (err: unknown) => {
          failure = err;
        },
      );
    }
    expect(failure).toMatchObject({
      code: "EAGAIN",
      message: `Cannot connect to "@${name}": the server's queue of waiting connections is full (try again)`,
    });
  });

  test("permission denied: EACCES, says what permission is missing", async () => {
    const { dir, path } = await tempPath();
    await chmod(dir, 0o755);
    await nodeServer(path, (socket) => socket.end());
    await chmod(path, 0o600);
    const expected = `EACCES Cannot connect to "${path}": permission denied (connecting needs write permission on the socket file and search permission on its directories)`;
    if (!isRoot) {
      await chmod(path, 0o000);
      const err = await connectUnix({ path }).catch((e: SocketError) => e);
      expect(`${(err as SocketError).code} ${(err as SocketError).message}`).toBe(expected);
      return;
    }
    // Root may connect anywhere: try as user nobody, in a child process.
    const child = spawn(
      process.execPath,
      [
        "--conditions=@socklab/source",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { connectUnix } from ${JSON.stringify(MOD)};
         try { await connectUnix({ path: process.argv[1] }); console.log("connected"); }
         catch (e) { console.log(e.code, e.message); }`,
        path,
      ],
      { uid: 65534, gid: 65534, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c;
    });
    await once(child, "close");
    expect(out.trim()).toBe(expected);
  });

  test("a path longer than the kernel allows is refused before connecting", async () => {
    await expect(connectUnix({ path: `/tmp/${"x".repeat(UNIX_PATH_MAX)}` })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_PATH_TOO_LONG",
    });
  });

  test("an aborted signal rejects with its reason", async () => {
    const { path } = await tempPath();
    await nodeServer(path, (socket) => socket.end());
    const reason = new Error("stop");
    await expect(connectUnix({ path, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  test("a bad timeout is a RangeError", async () => {
    await expect(connectUnix({ path: "/tmp/x", timeoutMs: -1 })).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_INVALID_TIMEOUT",
    });
  });
});
