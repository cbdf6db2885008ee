import { execFile } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { promisify } from "node:util";
import {
  AddressError,
  AddressInUseError,
  type ConnectionHandler,
  hasIpv6Loopback,
  SocketError,
  type StreamConnection,
} from "@socklab/core";
import { hasCommand, requireTools } from "@socklab/core/testing";
import { afterEach, describe, expect, test } from "vitest";
import { HELLO_HTML, helloWeb } from "./hello_web.ts";
import {
  _explainBindError,
  type ListenTcpOptions,
  listenTcp,
  type TcpServer,
} from "./listen_tcp.ts";

const run = promisify(execFile);
const ipv6 = hasIpv6Loopback();

const servers: TcpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

async function start(options: Partial<ListenTcpOptions> = {}): Promise<TcpServer> {
  const server = await listenTcp({ host: "127.0.0.1", port: 0, handler: echo, ...options });
  servers.push(server);
  return server;
}

const echo: ConnectionHandler = async (conn) => {
  for await (const chunk of conn) await conn.write(chunk);
};

/** Sends `data`, half-closes and returns everything the server sent back. */
async function exchange(port: number, host: string, data: string): Promise<string> {
  const socket = connect(port, host);
  socket.end(data);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("listenTcp()", () => {
  test.skipIf(!ipv6)("localhost listens on ::1 and 127.0.0.1 on the same port", async () => {
    const server = await start({ host: "localhost" });
    const { port } = server;
    expect(port).toBeGreaterThan(0);
    expect(server.addresses).toEqual([`tcp://[::1]:${port}`, `tcp://127.0.0.1:${port}`]);
    expect(await exchange(port, "::1", "six")).toBe("six");
    expect(await exchange(port, "127.0.0.1", "four")).toBe("four");
  });

  test.skipIf(!ipv6)("serves the page over IPv6 [::1]", async ({ skip }) => {
    requireTools(skip, "curl");
    const web = helloWeb();
    const server = await start({ host: "::1", handler: web });
    expect(server.addresses).toEqual([`tcp://[::1]:${server.port}`]);
    const { stdout } = await run("curl", ["-s", "-g", `http://[::1]:${server.port}/`]);
    expect(stdout).toBe(HELLO_HTML);
  });

  test.skipIf(!ipv6)('"" is one dual-stack socket that IPv4 and IPv6 clients reach', async () => {
    const server = await start({ host: "" });
    expect(server.addresses).toEqual([`tcp://[::]:${server.port}`]);
    expect(await exchange(server.port, "127.0.0.1", "four")).toBe("four");
    expect(await exchange(server.port, "::1", "six")).toBe("six");
  });

  test("accepts [::1] in brackets, as users write it in URLs", async () => {
    const server = await start({ host: ipv6 ? "[::1]" : "127.0.0.1" });
    expect(server.addresses).toHaveLength(1);
  });

  test("an occupied port is one clear line", async () => {
    const first = await start();
    const err = await listenTcp({ host: "127.0.0.1", port: first.port, handler: echo }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AddressInUseError);
    expect((err as Error).message).toBe(
      `Cannot bind "127.0.0.1:${first.port}": address already in use`,
    );
  });

  test.skipIf(!ipv6)("localhost on a port taken on one of its addresses fails whole", async () => {
    const taken = await start({ host: "127.0.0.1" });
    const err = await listenTcp({ host: "localhost", port: taken.port, handler: echo }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toBe(
      `Cannot bind "127.0.0.1:${taken.port}": address already in use`,
    );
    // The ::1 socket bound before the failure is closed again.
    const again = await start({ host: "::1", port: taken.port });
    expect(again.port).toBe(taken.port);
  });

  test("a port below 1024 without privileges is explained in the same line", () => {
    const denied = new SocketError('Cannot bind "127.0.0.1:80": permission denied', {
      code: "EACCES",
      address: "127.0.0.1:80",
      port: 80,
      syscall: "listen",
    });
    const explained = _explainBindError(denied) as SocketError;
    expect(explained.message).toBe(
      'Cannot bind "127.0.0.1:80": permission denied (port 80 is below 1024: binding it needs root or the CAP_NET_BIND_SERVICE capability)',
    );
    expect(explained).toMatchObject({ code: "EACCES", port: 80, syscall: "listen" });
    const high = new SocketError('Cannot bind "127.0.0.1:5000": permission denied', {
      code: "EACCES",
      port: 5000,
    });
    expect(_explainBindError(high)).toBe(high);
  });

  test.skipIf(!hasCommand("ss"))(
    "binds a port again at once although a connection on it is in TIME_WAIT (SO_REUSEADDR)",
    async () => {
      // The server closes first, so its side of the connection goes to TIME_WAIT.
      const first = await start({ handler: async (conn) => void (await conn.write("bye\n")) });
      const { port } = first;
      expect(await exchange(port, "127.0.0.1", "")).toBe("bye\n");
      await first.close();
      const { stdout } = await run("ss", ["-tan", "state", "time-wait", `sport = :${port}`]);
      expect(stdout).toContain(`127.0.0.1:${port}`);
      const again = await start({ port });
      expect(again.port).toBe(port);
      expect(await exchange(port, "127.0.0.1", "again")).toBe("again");
    },
  );

  test("tells the handler who it talks to, and counts connections", async () => {
    const seen: string[] = [];
    const server = await start({
      handler: async (conn: StreamConnection) => {
        seen.push(`${conn.remote} -> ${conn.local}`);
        await conn.write("hi");
      },
    });
    const events: string[] = [];
    server.on("connection", (conn, listener) => events.push(`${listener} ${conn.remote}`));
    const socket = connect(server.port, "127.0.0.1");
    await once(socket, "connect");
    const localPort = socket.localPort;
    socket.end();
    socket.resume();
    await once(server, "close");
    expect(seen).toEqual([`127.0.0.1:${localPort} -> 127.0.0.1:${server.port}`]);
    expect(events).toEqual([`127.0.0.1:${server.port} 127.0.0.1:${localPort}`]);
    expect(server.stats).toMatchObject({ accepted: 1, active: 0, failed: 0 });
  });

  test("stopAccepting() refuses new connections and keeps serving the open one", async () => {
    const server = await start();
    const open = connect(server.port, "127.0.0.1");
    await once(server, "connection");
    server.stopAccepting();
    const late = connect(server.port, "127.0.0.1");
    const [err] = (await once(late, "error")) as [NodeJS.ErrnoException];
    expect(err.code).toBe("ECONNREFUSED");
    open.end("still here");
    const chunks: Buffer[] = [];
    for await (const chunk of open) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("still here");
  });

  test("rejects a bad port, a bad host and a missing handler", async () => {
    await expect(listenTcp({ port: 70000, handler: echo })).rejects.toThrow(RangeError);
    await expect(listenTcp({ host: "bad host!", port: 0, handler: echo })).rejects.toThrow(
      AddressError,
    );
    await expect(listenTcp({ port: 0 } as ListenTcpOptions)).rejects.toThrow(
      "Cannot listen without a handler",
    );
    await expect(listenTcp({ port: 0, backlog: -1, handler: echo })).rejects.toThrow(
      'Cannot use backlog "-1"',
    );
  });
});
