import { once } from "node:events";
import { closeSync } from "node:fs";
import { Socket } from "node:net";
import { describe, expect, onTestFinished, test } from "vitest";
import { pythonAbstractServer, uniqueName } from "./_test_support.ts";
import { connectAbstractStream } from "./connect_abstract_stream.ts";

describe("connectAbstractStream()", () => {
  test("reaches a Python server on the exact name; net.Socket({ fd }) exchanges bytes both ways", async () => {
    const name = uniqueName("connect");
    await pythonAbstractServer(name);
    const socket = new Socket({
      fd: connectAbstractStream(name),
      readable: true,
      writable: true,
      allowHalfOpen: true,
    });
    onTestFinished(() => void socket.destroy());
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.end("Hallo Welt!");
    await once(socket, "end");
    expect(Buffer.concat(chunks).toString()).toBe("python got: Hallo Welt!");
  });

  test("nobody listening: ECONNREFUSED from connect, as Node's net reports it", () => {
    const name = uniqueName("nobody");
    expect(() => connectAbstractStream(name)).toThrow(
      expect.objectContaining({
        code: "ECONNREFUSED",
        errno: -111,
        syscall: "connect",
        address: `@${name}`,
        message: `connect ECONNREFUSED: connection refused @${name}`,
      }),
    );
  });

  test("a full backlog fails at once with EAGAIN instead of blocking", async () => {
    const name = uniqueName("full");
    await pythonAbstractServer(name, 0); // listen(0), never accepts
    const fds: number[] = [];
    onTestFinished(() => {
      for (const fd of fds) closeSync(fd);
    });
    let failure: unknown;
    for (let i = 0; i < 64 && failure === undefined; i++) {
      try {
        fds.push(connectAbstractStream(name));
      } catch (err) {
        failure = err;
      }
    }
    expect(fds.length).toBeGreaterThan(0);
    expect(failure).toMatchObject({ code: "EAGAIN", syscall: "connect", address: `@${name}` });
  });

  test("bad names are TypeError or RangeError with a code", () => {
    expect(() => connectAbstractStream("")).toThrow(
      expect.objectContaining({ name: "TypeError", code: "ERR_SOCKLAB_INVALID_PATH" }),
    );
    expect(() => connectAbstractStream("y".repeat(108))).toThrow(
      expect.objectContaining({ name: "RangeError", code: "ERR_SOCKLAB_PATH_TOO_LONG" }),
    );
  });
});
