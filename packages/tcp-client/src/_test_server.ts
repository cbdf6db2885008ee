/**
 * Small real servers for the tests: bound to port 0 on a loopback address and
 * closed when the test finishes.
 *
 * @module
 */
import { once } from "node:events";
import * as net from "node:net";
import { onTestFinished } from "vitest";

/** A listening test server. */
export interface TestServer {
  server: net.Server;
  port: number;
  /** The sockets it accepted, in order. */
  accepted: net.Socket[];
  /** Resolves with the next accepted socket (or one already accepted and not yet taken). */
  nextConnection(): Promise<net.Socket>;
}

/**
 * Listens on `host` port 0; every accepted socket goes to `onConnection`.
 *
 * @param host `127.0.0.1`, `::1`.
 * @param onConnection What to do with each connection.
 * @returns The server and its port.
 */
export async function listen(
  host: string,
  onConnection: (socket: net.Socket) => void = () => {},
): Promise<TestServer> {
  const accepted: net.Socket[] = [];
  let taken = 0;
  const waiters: ((socket: net.Socket) => void)[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      taken += 1;
      waiter(socket);
    }
    onConnection(socket);
  });
  server.listen({ host, port: 0, ipv6Only: host.includes(":") });
  await once(server, "listening");
  onTestFinished(async () => {
    for (const socket of accepted) socket.destroy();
    server.close();
    await once(server, "close");
  });
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    accepted,
    nextConnection() {
      if (taken < accepted.length) return Promise.resolve(accepted[taken++]!);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/**
 * A port nobody listens on: bound on port 0 and closed again.
 *
 * @param host Where to bind it.
 * @returns The port, free a moment ago.
 */
export async function freedPort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  server.listen({ host, port: 0 });
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Reads a socket until the peer half-closes.
 *
 * @param socket The socket.
 * @returns Everything received.
 */
export function readAll(socket: net.Socket): Promise<Buffer> {
  // Not `for await`: its end destroys the socket, and the test may still want to answer.
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.once("end", () => resolve(Buffer.concat(chunks)));
    socket.once("error", reject);
  });
}
