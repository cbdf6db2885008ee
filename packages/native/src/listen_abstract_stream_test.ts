import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { testWithTools } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { pythonAbstractClient, uniqueName } from "./_test_support.ts";
import { listenAbstractStream } from "./listen_abstract_stream.ts";

/** A `net` server on `listenAbstractStream(name)`'s descriptor: it answers `node got: …`. */
async function nodeServer(name: string): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("end", () => socket.end(`node got: ${Buffer.concat(chunks)}`));
  });
  server.listen({ fd: listenAbstractStream(name) });
  await once(server, "listening");
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return server;
}

describe("listenAbstractStream()", () => {
  test("a Python client reaches net.createServer().listen({ fd }) on the exact name and exchanges bytes", async () => {
    const name = uniqueName("listen");
    await nodeServer(name);
    expect(await pythonAbstractClient(name, "Hallo Welt!")).toBe("b'node got: Hallo Welt!'");
    expect(await pythonAbstractClient(name, "again, über")).toBe(
      `b'node got: again, \\xc3\\xbcber'`,
    );
  });

  testWithTools("socat")("socat ABSTRACT-CONNECT reaches it", async () => {
    const name = uniqueName("socat");
    await nodeServer(name);
    const socat = spawn("socat", ["-", `ABSTRACT-CONNECT:${name}`]);
    onTestFinished(() => void socat.kill("SIGKILL"));
    let out = "";
    socat.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    socat.stdin.end("from socat");
    expect(await once(socat, "close")).toEqual([0, null]);
    expect(out).toBe("node got: from socat");
  });

  testWithTools("nc")("nc -U @name (netcat-openbsd) reaches it", async () => {
    const name = uniqueName("nc");
    await nodeServer(name);
    const nc = spawn("nc", ["-N", "-U", `@${name}`]);
    onTestFinished(() => void nc.kill("SIGKILL"));
    let out = "";
    nc.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    nc.stdin.end("from nc");
    expect(await once(nc, "close")).toEqual([0, null]);
    expect(out).toBe("node got: from nc");
  });

  testWithTools("ss")(
    "Node calls listen() on the descriptor again: the backlog holds only when given to server.listen({ fd }, backlog)",
    async () => {
      const backlogOf = async (listen: (server: Server, fd: number) => void): Promise<string> => {
        const name = uniqueName("backlog");
        const server = createServer();
        listen(server, listenAbstractStream(name, 7));
        await once(server, "listening");
        onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
        const line = execFileSync("ss", ["-xlH"], { encoding: "utf8" })
          .split("\n")
          .find((l) => l.includes(`@${name} `));
        return line?.trim().split(/\s+/)[3] ?? "not listed"; // u_str LISTEN 0 <backlog> @name …
      };
      expect(await backlogOf((server, fd) => server.listen({ fd }, 7))).toBe("7");
      expect(await backlogOf((server, fd) => server.listen({ fd }))).toBe("511");
    },
  );

  test("a name of 107 bytes is bound whole", async () => {
    const name = uniqueName("long").padEnd(107, "x");
    await nodeServer(name);
    expect(await pythonAbstractClient(name, "long")).toBe("b'node got: long'");
  });

  test("a name in use fails as Node's net does: EADDRINUSE from bind, with the address", async () => {
    const name = uniqueName("inuse");
    const fd = listenAbstractStream(name);
    onTestFinished(() => closeSync(fd));
    expect(() => listenAbstractStream(name)).toThrow(
      expect.objectContaining({
        code: "EADDRINUSE",
        errno: -98,
        syscall: "bind",
        address: `@${name}`,
        message: `bind EADDRINUSE: address already in use @${name}`,
      }),
    );
  });

  test("bad arguments are TypeError or RangeError with a code", () => {
    expect(() => listenAbstractStream("")).toThrow(
      expect.objectContaining({ name: "TypeError", code: "ERR_SOCKLAB_INVALID_PATH" }),
    );
    expect(() => listenAbstractStream(42 as unknown as string)).toThrow(
      expect.objectContaining({
        name: "TypeError",
        code: "ERR_SOCKLAB_INVALID_PATH",
        message: "Cannot use number as an abstract socket name: it must be a string",
      }),
    );
    expect(() => listenAbstractStream("x".repeat(108))).toThrow(
      expect.objectContaining({ name: "RangeError", code: "ERR_SOCKLAB_PATH_TOO_LONG" }),
    );
    expect(() => listenAbstractStream(uniqueName("backlog"), -1)).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_SOCKLAB_INVALID_BACKLOG",
        message: 'Cannot use backlog "-1": it must be an integer from 0 to 2147483647',
      }),
    );
  });
});
