import { once } from "node:events";
import { createServer } from "node:net";
import { describe, expect, test } from "vitest";
import { AddressInUseError, SocketError, SocklabError } from "./errors.ts";
import { errnoName, explainErrorCode, toSocketError } from "./system_error.ts";

describe("toSocketError()", () => {
  test("turns a real EADDRINUSE into one line naming the address", async () => {
    const first = createServer().listen(0, "127.0.0.1");
    await once(first, "listening");
    const { port } = first.address() as { port: number };
    const second = createServer().listen(port, "127.0.0.1");
    const [err] = await once(second, "error");
    first.close();
    const wrapped = toSocketError(err, { action: "bind", address: `127.0.0.1:${port}`, port });
    expect(wrapped).toBeInstanceOf(AddressInUseError);
    expect(wrapped.message).toBe(`Cannot bind "127.0.0.1:${port}": address already in use`);
    expect(wrapped).toMatchObject({
      code: "EADDRINUSE",
      syscall: "listen",
      port,
      errno: err.errno,
    });
    expect(wrapped.cause).toBe(err);
  });
  test("turns a real ECONNREFUSED into one line", async () => {
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    const { connect } = await import("node:net");
    const socket = connect(port, "127.0.0.1");
    const [err] = await once(socket, "error").catch((e) => [e]);
    const wrapped = toSocketError(err, { action: "connect to", address: `127.0.0.1:${port}` });
    expect(wrapped).toBeInstanceOf(SocketError);
    expect(wrapped.message).toBe(
      `Cannot connect to "127.0.0.1:${port}": connection refused (nobody is listening)`,
    );
  });
  test("names bare negative errno numbers from native bindings", () => {
    const wrapped = toSocketError(-111, { action: "send to", address: "/tmp/x" });
    expect(wrapped.message).toBe(
      'Cannot send to "/tmp/x": connection refused (nobody is listening)',
    );
    expect(wrapped.code).toBe("ECONNREFUSED");
  });
  test("passes socklab errors through", () => {
    const err = new SocklabError("Cannot do it");
    expect(toSocketError(err, { action: "x", address: "y" })).toBe(err);
  });
  test("explainErrorCode() and errnoName()", () => {
    expect(explainErrorCode("EACCES")).toBe("permission denied");
    expect(explainErrorCode("EWEIRD")).toBe("EWEIRD");
    expect(errnoName(98)).toBe("EADDRINUSE");
    expect(errnoName(-2)).toBe("ENOENT");
  });
});
