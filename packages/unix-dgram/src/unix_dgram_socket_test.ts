import { spawn } from "node:child_process";
import { lstat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { ClosedError, DatagramTooLargeError, SocketError, TimeoutError } from "@socklab/core";
import { closeAfterTest, makeTempDir, testDir } from "@socklab/core/testing";
import fc from "fast-check";
import { describe, expect, onTestFinished, test } from "vitest";
import { errnoError } from "./_errors.ts";
import {
  makeStaleSocket,
  pythonSend,
  startOrderedReceiver,
  startPrintingReceiver,
} from "./_test_python.ts";
import { bindUnixDgram } from "./bind_unix_dgram.ts";
import { openUnixDgram } from "./open_unix_dgram.ts";
import { unixDgramSendLimit } from "./unix_dgram_limits.ts";

const tempDir = () => testDir("socklab-ud");
const closeLater = closeAfterTest;

/** A datagram numbered `n` in its first four bytes, as the ordered receivers expect. */
function numbered(n: number, size = 64): Buffer {
  const data = Buffer.alloc(size, 0x2e);
  data.writeUInt32BE(n, 0);
  return data;
}

const FLOOD = 20_000;

describe("UnixDgramSocket: sending and receiving", () => {
  test("any bytes arrive whole, with the sender's bound path (fast-check)", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "server.sock") }));
    const client = closeLater(await openUnixDgram({ bind: join(dir, "client.sock") }));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        await client.send(bytes, join(dir, "server.sock"));
        const datagram = await server.receive();
        expect(datagram.data).toEqual(Buffer.from(bytes));
        expect(datagram.from).toBe(join(dir, "client.sock"));
        expect(datagram.truncated).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  test("a datagram from an unbound sender has no sender path", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "server.sock") }));
    const client = closeLater(await openUnixDgram());
    expect(client.path).toBeUndefined();
    await client.send("Hallo Welt!", join(dir, "server.sock"));
    expect(await server.receive()).toEqual({
      data: Buffer.from("Hallo Welt!"),
      from: undefined,
      truncated: false,
    });
  });

  test("iteration yields datagrams in order and ends when the socket is closed", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "server.sock") }));
    const client = closeLater(await openUnixDgram());
    const seen: string[] = [];
    const loop = (async () => {
      for await (const { data } of server) {
        seen.push(data.toString());
        if (seen.length === 3) void server.close();
      }
    })();
    for (const text of ["eins", "zwei", "drei"]) await client.send(text, join(dir, "server.sock"));
    await loop;
    expect(seen).toEqual(["eins", "zwei", "drei"]);
    expect(server.closed).toBe(true);
  });

  test("receive() gives up with a TimeoutError, and fails with a ClosedError once closed", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "server.sock") }));
    const error = await server.receive({ timeoutMs: 50 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe(
      `Cannot receive on "${join(dir, "server.sock")}": nothing arrived within 50 ms`,
    );
    const waiting = expect(server.receive()).rejects.toBeInstanceOf(ClosedError);
    await server.close();
    await waiting;
    await expect(server.receive()).rejects.toThrow(/the socket is closed$/);
  });
});

describe("UnixDgramSocket: errors by name", () => {
  test("sending to a missing path: no such socket (ENOENT)", async () => {
    const dir = await tempDir();
    const client = closeLater(await openUnixDgram());
    const error = await client.send("x", join(dir, "missing.sock")).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SocketError);
    expect(error).toMatchObject({
      code: "ENOENT",
      errno: -2,
      syscall: "sendto",
      message: `Cannot send to "${join(dir, "missing.sock")}": no such socket (nothing is bound to this path)`,
    });
  });

  test("sending to a stale socket file: nobody is bound (ECONNREFUSED)", async () => {
    const dir = await tempDir();
    await makeStaleSocket(join(dir, "stale.sock"));
    const client = closeLater(await openUnixDgram());
    await expect(client.send("x", join(dir, "stale.sock"))).rejects.toMatchObject({
      code: "ECONNREFUSED",
      message: `Cannot send to "${join(dir, "stale.sock")}": nobody is bound to it (a stale socket file, or a file that is not a socket)`,
    });
  });

  test("sending to a stream socket: wrong socket type (EPROTOTYPE)", async () => {
    const dir = await tempDir();
    const stream = createServer();
    await new Promise<void>((resolve) => stream.listen(join(dir, "stream.sock"), resolve));
    onTestFinished(() => new Promise<void>((resolve) => stream.close(() => resolve())));
    const client = closeLater(await openUnixDgram());
    await expect(client.send("x", join(dir, "stream.sock"))).rejects.toMatchObject({
      code: "EPROTOTYPE",
      message: `Cannot send to "${join(dir, "stream.sock")}": wrong socket type (it is a stream socket; datagrams need a datagram socket)`,
    });
  });

  test("a path over 107 bytes is refused before the binding could cut it", async () => {
    const client = closeLater(await openUnixDgram());
    await expect(client.send("x", `/tmp/${"a".repeat(103)}`)).rejects.toMatchObject({
      name: "RangeError",
      code: "ERR_SOCKLAB_PATH_TOO_LONG",
    });
  });

  test("send() without a destination on an unconnected socket is a TypeError", async () => {
    const client = closeLater(await openUnixDgram());
    await expect(client.send("x")).rejects.toMatchObject({
      name: "TypeError",
      code: "ERR_SOCKLAB_NO_DESTINATION",
    });
  });

  test.each([
    ["send to", "ENOENT", "no such socket (nothing is bound to this path)"],
    [
      "send to",
      "ECONNREFUSED",
      "nobody is bound to it (a stale socket file, or a file that is not a socket)",
    ],
    ["send to", "EMSGSIZE", "message too long (larger than the socket's send buffer allows)"],
    ["send to", "EACCES", "permission denied"],
    ["bind", "EACCES", "permission denied"],
    ["bind", "ENOENT", "no such file or directory"],
    ["bind", "EADDRINUSE", "address already in use"],
  ] as const)("errnoError(): %s with %s reads as one line", (action, code, reason) => {
    const errno = -(constants.errno as Record<string, number>)[code]!;
    const error = errnoError(errno, { action, address: "/tmp/s", syscall: "x" });
    expect(error.message).toBe(`Cannot ${action} "/tmp/s": ${reason}`);
    expect(error).toMatchObject({ code, errno });
    expect(error.name).toBe(code === "EADDRINUSE" ? "AddressInUseError" : "SocketError");
  });
});

describe("UnixDgramSocket: size limits", () => {
  test("a datagram over the kernel's limit is refused before sending; the limit itself arrives", async () => {
    const dir = await tempDir();
    const path = join(dir, "python.sock");
    const python = await startPrintingReceiver(path);
    onTestFinished(() => python.kill());
    const client = closeLater(await openUnixDgram());
    const limit = unixDgramSendLimit();
    const error = await client.send(Buffer.alloc(limit + 1), path).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DatagramTooLargeError);
    expect((error as Error).message).toBe(
      `Cannot send ${limit + 1} bytes in one UNIX datagram: the limit is ${limit} bytes`,
    );
    await client.send(Buffer.alloc(limit, 0x61), path);
    await client.send("after", path);
    // The refused datagram never arrived: the first thing Python printed is the largest one.
    await python.waitForLine(/^5 b'after' /);
    expect(python.lines[1]).toMatch(new RegExp(`^${limit} b'a{40}' `));
    expect(python.lines).toHaveLength(3);
  });

  test("maxDatagramSize lowers the limit", async () => {
    const client = closeLater(await openUnixDgram({ maxDatagramSize: 100 }));
    await expect(client.send(Buffer.alloc(101), "/tmp/unused")).rejects.toMatchObject({
      name: "DatagramTooLargeError",
      size: 101,
      limit: 100,
    });
  });

  test("65,535 and 65,536 bytes arrive whole; 70,000 bytes arrive cut and flagged", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "server.sock") }));
    const sizes = [65_535, 65_536, 70_000];
    const sent = sizes.map((size) => Buffer.alloc(size, size % 251));
    await pythonSend(join(dir, "server.sock"), sent);
    const got = [await server.receive(), await server.receive(), await server.receive()];
    expect(got.map((d) => [d.data.length, d.truncated])).toEqual([
      [65_535, false],
      [65_536, false],
      [65_536, true],
    ]);
    expect(got[0]!.data).toEqual(sent[0]);
    expect(got[1]!.data).toEqual(sent[1]);
    expect(got[2]!.data).toEqual(sent[2]!.subarray(0, 65_536));
  });
});

describe("UnixDgramSocket: backpressure, not loss", () => {
  test("a flood of 20,000 datagrams into a slow reader arrives complete and in order", async () => {
    const dir = await tempDir();
    const path = join(dir, "server.sock");
    const server = closeLater(await bindUnixDgram({ path }));
    const client = closeLater(await openUnixDgram());
    const sends = Array.from({ length: FLOOD }, (_, i) => client.send(numbered(i), path));
    // The kernel queue took a handful; the rest wait for room instead of failing.
    expect(client.pendingSends).toBeGreaterThan(FLOOD - 1000);
    let next = 0;
    let outOfOrder: number | undefined;
    for await (const { data } of server) {
      if (data.readUInt32BE(0) !== next) outOfOrder ??= next;
      next++;
      // A slow reader: pause now and then, and let everything else run.
      if (next % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      if (next === FLOOD) break;
    }
    await Promise.all(sends);
    expect(outOfOrder).toBeUndefined();
    expect(next).toBe(FLOOD);
    expect(client.pendingSends).toBe(0);
  });

  test.each([
    ["sendto (retries)", false],
    ["a connected socket (writable events)", true],
  ])(
    "sends through %s wait while Python does not read; then all 20,000 arrive in order",
    async (_how, connected) => {
      const dir = await tempDir();
      const path = join(dir, "python.sock");
      const python = await startOrderedReceiver(path, FLOOD);
      onTestFinished(() => python.kill());
      const client = closeLater(await openUnixDgram(connected ? { connect: path } : {}));
      const sends = Array.from({ length: FLOOD }, (_, i) =>
        connected ? client.send(numbered(i)) : client.send(numbered(i), path),
      );
      expect(client.pendingSends).toBeGreaterThan(FLOOD - 1000);
      python.go();
      await Promise.all(sends);
      await python.waitForLine(/^received 20000 in order$/);
      expect(await python.exited).toBe(0);
    },
  );

  test("sends fail with a TimeoutError once the receiver's queue stays full for sendTimeoutMs", async () => {
    const dir = await tempDir();
    const path = join(dir, "python.sock");
    const python = await startOrderedReceiver(path, 1); // never told to read
    onTestFinished(() => python.kill());
    const client = closeLater(await openUnixDgram({ sendTimeoutMs: 200 }));
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => client.send(numbered(i), path)),
    );
    const delivered = results.findIndex((r) => r.status === "rejected");
    expect(delivered).toBeGreaterThan(0);
    expect(results.slice(0, delivered).every((r) => r.status === "fulfilled")).toBe(true);
    for (const r of results.slice(delivered)) {
      expect(r.status).toBe("rejected");
      const reason = (r as PromiseRejectedResult).reason as TimeoutError;
      expect(reason).toBeInstanceOf(TimeoutError);
      expect(reason.message).toBe(
        `Cannot send to "${path}": its receive queue stayed full for 200 ms (the receiver is not reading)`,
      );
    }
    expect(client.pendingSends).toBe(0);
  });

  test("close() fails the sends still waiting with a ClosedError", async () => {
    const dir = await tempDir();
    const path = join(dir, "python.sock");
    const python = await startOrderedReceiver(path, 1);
    onTestFinished(() => python.kill());
    const client = closeLater(await openUnixDgram());
    const results = Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => client.send(numbered(i), path)),
    );
    await client.close();
    const rejected = (await results).filter((r) => r.status === "rejected");
    expect(rejected.length).toBeGreaterThan(0);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(ClosedError);
    expect(((rejected[0] as PromiseRejectedResult).reason as Error).message).toBe(
      `Cannot send to "${path}": the socket is closed`,
    );
    await expect(client.send("late", path)).rejects.toBeInstanceOf(ClosedError);
  });
});

describe("UnixDgramSocket: process and threads", () => {
  const require = createRequire(import.meta.url);
  const modUrl = pathToFileURL(join(import.meta.dirname, "mod.ts")).href;
  const tsxLoader = pathToFileURL(require.resolve("tsx")).href;

  /** Runs a script that imports this package in a child process; `ready` on stdout resolves `ready`. */
  async function startChild(dir: string, lines: readonly string[], args: readonly string[]) {
    const script = join(dir, "child.mjs");
    await writeFile(
      script,
      [
        `const { bindUnixDgram, openUnixDgram } = await import(${JSON.stringify(modUrl)});`,
        ...lines,
      ].join("\n"),
    );
    const child = spawn(
      process.execPath,
      ["--conditions=@socklab/source", "--import", tsxLoader, script, ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const output = { stdout: "", stderr: "" };
    child.stderr.on("data", (chunk: Buffer) => {
      output.stderr += chunk.toString();
    });
    const ready = new Promise<void>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output.stdout += chunk.toString();
        if (output.stdout.includes("ready\n")) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    // A child that never ends fails the test instead of hanging it.
    const watchdog = setTimeout(() => child.kill("SIGKILL"), 10_000);
    onTestFinished(() => {
      clearTimeout(watchdog);
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    return { ready, exited, output };
  }

  test("an open socket keeps the process alive until close(); then it exits by itself", async () => {
    const dir = await tempDir();
    const child = await startChild(
      dir,
      [
        "const server = await bindUnixDgram({ path: process.argv[2] });",
        'console.log("ready");',
        "const { data } = await server.receive();",
        "await server.close();",
        'console.log("closed after", data.toString());',
      ],
      [join(dir, "child.sock")],
    );
    await child.ready;
    const client = closeLater(await openUnixDgram());
    await client.send("bye", join(dir, "child.sock"));
    // Waiting on receive() needs the socket to keep the loop alive (else exit code 13);
    // after close() nothing may hold it: the child must end on its own.
    expect({ code: await child.exited, ...child.output }).toEqual({
      code: 0,
      stdout: "ready\nclosed after bye\n",
      stderr: "",
    });
  });

  test("process.exit() without close() still removes the socket file and the auto temp dir", async () => {
    const dir = await tempDir();
    const child = await startChild(
      dir,
      [
        "await bindUnixDgram({ path: process.argv[2] });",
        'const client = await openUnixDgram({ bind: "auto" });',
        "console.log(client.path);",
        'console.log("ready");',
        "process.exit(130);",
      ],
      [join(dir, "server.sock")],
    );
    expect(await child.exited).toBe(130);
    const auto = child.output.stdout.split("\n")[0]!;
    expect(auto).toMatch(/socklab-dgram-.+\/client\.sock$/);
    await expect(lstat(join(dir, "server.sock"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(lstat(dirname(auto))).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("a worker thread is refused with a clear error", async () => {
    const tsxApi = pathToFileURL(require.resolve("tsx/esm/api")).href;
    const worker = new Worker(
      `const { parentPort } = require("node:worker_threads");
      import(${JSON.stringify(tsxApi)})
        .then(({ register }) => { register(); return import(${JSON.stringify(modUrl)}); })
        .then((m) => m.openUnixDgram())
        .then(() => parentPort.postMessage("opened"), (e) => parentPort.postMessage(e.code + ": " + e.message));`,
      { eval: true, execArgv: ["--conditions=@socklab/source"] },
    );
    const message = await new Promise((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    await worker.terminate();
    expect(message).toBe(
      "ERR_SOCKLAB_UNSUPPORTED: Cannot use UNIX datagram sockets in a worker thread: this package is for the main thread only (in vitest, use the forks pool)",
    );
  });
});

describe("UnixDgramSocket.onDatagram()", () => {
  test("delivers queued and new datagrams in order, then stops", async () => {
    const dir = await makeTempDir("socklab-dgram-listen");
    onTestFinished(dir.remove);
    const server = await bindUnixDgram({ path: join(dir.path, "s") });
    const client = await openUnixDgram({ bind: "auto" });
    onTestFinished(async () => {
      await client.close();
      await server.close();
    });
    await client.send("early", server.path!);
    await expect.poll(() => server.queued).toBe(1);
    const seen: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const stop = server.onDatagram(({ data, from }) => {
      seen.push(`${data} from ${from === client.path ? "client" : from}`);
      if (seen.length === 1001) done();
    });
    for (let i = 0; i < 1000; i++) await client.send(`n${i}`, server.path!);
    await all;
    expect(seen[0]).toBe("early from client");
    expect(seen.slice(1)).toEqual(Array.from({ length: 1000 }, (_, i) => `n${i} from client`));
    stop();
    await client.send("queued again", server.path!);
    expect((await server.receive({ timeoutMs: 2000 })).data.toString()).toBe("queued again");
  });
});

describe("UnixDgramSocket.replyNow(): replies that never wait", () => {
  test("a receiver that never reads gets at most maxQueuedReplies waiting; the rest are dropped and counted", async () => {
    const dir = await tempDir();
    const server = closeLater(
      await bindUnixDgram({ path: join(dir, "server.sock"), maxQueuedReplies: 8 }),
    );
    // Bound (so it can be answered) and never reading: its receive queue fills.
    const sink = closeLater(await openUnixDgram({ bind: join(dir, "sink.sock") }));
    const outcomes = { sent: 0, queued: 0, dropped: 0, failed: 0 };
    const reply = Buffer.alloc(1000, 0x61);
    for (let i = 0; i < 5000; i++) outcomes[server.replyNow(reply, sink.path!)] += 1;
    expect(outcomes.sent).toBeGreaterThan(0);
    expect(outcomes.queued).toBe(8);
    expect(outcomes.dropped).toBe(5000 - outcomes.sent - 8);
    expect(outcomes.failed).toBe(0);
    expect(server.pendingSends).toBe(8);
    expect(server.replyStats).toEqual({
      sent: outcomes.sent + 8,
      dropped: outcomes.dropped,
      failed: 0,
    });
  });

  test("a reply to a receiver that is gone fails and is counted, never thrown", async () => {
    const dir = await tempDir();
    const server = closeLater(await bindUnixDgram({ path: join(dir, "server.sock") }));
    expect(server.replyNow(Buffer.from("hi"), join(dir, "gone.sock"))).toBe("failed");
    expect(server.replyStats).toEqual({ sent: 0, dropped: 0, failed: 1 });
    expect(server.lastReplyError?.message).toBe(
      `Cannot send to "${join(dir, "gone.sock")}": no such socket (nothing is bound to this path)`,
    );
  });
});
