import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { StreamConnection } from "./stream_connection.ts";
import { type ConnectionHandler, StreamServer, type StreamServerOptions } from "./stream_server.ts";

const servers: StreamServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

async function start(
  handler: ConnectionHandler,
  options: StreamServerOptions = {},
): Promise<{ server: StreamServer; port: number }> {
  const server = new StreamServer(handler, options);
  servers.push(server);
  const { server: node } = await server.listen({ host: "127.0.0.1", port: 0 });
  return { server, port: (node.address() as { port: number }).port };
}

const echo: ConnectionHandler = async (conn) => {
  for await (const chunk of conn) await conn.write(chunk);
};

async function exchange(port: number, data: string | Buffer, host = "127.0.0.1"): Promise<Buffer> {
  const socket = connect(port, host);
  socket.end(data);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("StreamServer", () => {
  test("serves many clients at once, each getting its own bytes back", async () => {
    const { port } = await start(echo);
    const payloads = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000 + i, i));
    const answers = await Promise.all(payloads.map((p) => exchange(port, p)));
    for (const [i, a] of answers.entries()) expect(a.equals(payloads[i]!)).toBe(true);
  });

  test("listens on IPv6 and IPv4 at once", async () => {
    const server = new StreamServer(echo);
    servers.push(server);
    const v4 = await server.listen({ host: "127.0.0.1", port: 0 });
    const { port } = v4.server.address() as { port: number };
    expect(v4.label).toBe(`127.0.0.1:${port}`);
    await server.listen({ host: "::1", port, ipv6Only: true });
    expect((await exchange(port, "four")).toString()).toBe("four");
    expect((await exchange(port, "six", "::1")).toString()).toBe("six");
  });

  test("an occupied port is one clear line", async () => {
    const { port } = await start(echo);
    const second = new StreamServer(echo);
    await expect(second.listen({ host: "127.0.0.1", port }, `127.0.0.1:${port}`)).rejects.toThrow(
      `Cannot bind "127.0.0.1:${port}": address already in use`,
    );
  });

  test("refuses connections past the limit with a reason and keeps serving the others", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { server, port } = await start(
      async (conn) => {
        await conn.write("welcome\n");
        await held;
      },
      { maxConnections: 2, onRefused: () => "busy: too many connections\n" },
    );
    const first = connect(port, "127.0.0.1");
    const second = connect(port, "127.0.0.1");
    await Promise.all([once(first, "data"), once(second, "data")]);
    expect((await exchange(port, "")).toString()).toBe("busy: too many connections\n");
    expect(server.stats).toMatchObject({ accepted: 2, refused: 1, active: 2 });
    release();
    await Promise.all([once(first, "close"), once(second, "close")]);
  });

  test("a handler that throws closes only its connection", async () => {
    const errors: Error[] = [];
    const { server, port } = await start(async (conn) => {
      const first = await conn.recv(100);
      if (first.toString() === "boom") throw new Error("handler failed");
      await conn.write(first);
    });
    server.on("error", (err) => errors.push(err));
    const bad = connect(port, "127.0.0.1");
    bad.on("error", () => {});
    bad.write("boom");
    await once(bad, "close");
    expect(errors.map((e) => e.message)).toEqual(["handler failed"]);
    expect((await exchange(port, "fine")).toString()).toBe("fine");
    expect(server.stats.failed).toBe(1);
  });

  test("close() stops accepting, lets handlers finish, then returns", async () => {
    let finished = false;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const { server, port } = await start(async (conn, { signal }) => {
      started();
      await once(signal, "abort");
      await conn.write("bye\n");
      finished = true;
    });
    const client = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    client.on("data", (c) => received.push(c));
    const ended = once(client, "end");
    await running;
    await server.close({ graceMs: 2000 });
    expect(finished).toBe(true);
    await ended;
    expect(Buffer.concat(received).toString()).toBe("bye\n");
    const late = connect(port, "127.0.0.1");
    const [err] = (await once(late, "error")) as [NodeJS.ErrnoException];
    expect(err.code).toBe("ECONNREFUSED");
  });

  test("close() destroys handlers that outlive the grace period", async () => {
    const { server, port } = await start(async () => new Promise(() => {}));
    const client: Socket = connect(port, "127.0.0.1");
    client.on("error", () => {});
    client.resume();
    const clientClosed = once(client, "close");
    await once(server, "connection");
    const t0 = Date.now();
    await server.close({ graceMs: 50 });
    expect(Date.now() - t0).toBeLessThan(2000);
    await clientClosed;
    expect(server.stats.active).toBe(0);
  });

  test("an idle connection is closed after the idle timeout", async () => {
    const { server, port } = await start(
      async (conn: StreamConnection) => {
        await conn.recv(10);
      },
      { idleTimeoutMs: 50 },
    );
    const client = connect(port, "127.0.0.1");
    client.resume();
    const clientClosed = once(client, "close");
    const [, reason] = (await once(server, "close")) as [StreamConnection, Error | undefined];
    expect(reason?.message ?? "").toMatch(/no traffic for 50 ms/);
    await clientClosed;
  });

  test("serves a UNIX socket path and reports it as the local address", async () => {
    const dir = await mkdtemp(join(tmpdir(), "socklab-server-"));
    try {
      const path = join(dir, "s");
      const server = new StreamServer(async (conn) => {
        await conn.write(`${conn.local}\n`);
      });
      servers.push(server);
      await server.listen({ path }, path);
      const socket = connect(path);
      let text = "";
      for await (const chunk of socket) text += chunk;
      expect(text).toBe(`${path}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
