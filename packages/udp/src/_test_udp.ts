/**
 * Test support for the UDP tests: sockets closed when the test ends, and a
 * port nobody listens on.
 *
 * @module
 */
import dgram from "node:dgram";
import { once } from "node:events";
import { onTestFinished } from "vitest";
import { createUdpSocket, type UdpSocket, type UdpSocketOptions } from "./udp_socket.ts";

/**
 * Opens a socket (port 0 unless given) that is closed when the test ends.
 *
 * @param options As for createUdpSocket.
 * @returns The socket.
 */
export async function openSocket(options: UdpSocketOptions = {}): Promise<UdpSocket> {
  const socket = await createUdpSocket({ port: 0, ...options });
  onTestFinished(() => socket.close());
  return socket;
}

/**
 * A UDP port on `host` that nothing is bound to: bound by the system, then released.
 *
 * @param host A loopback literal.
 * @returns The port.
 */
export async function unusedPort(host = "127.0.0.1"): Promise<number> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  socket.bind(0, host);
  await once(socket, "listening");
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * A bare `node:dgram` socket on a loopback address, closed when the test ends:
 * the other end in tests that must not use socklab on both sides.
 *
 * @param host `127.0.0.1` or `::1`.
 * @returns The socket and its port.
 */
export async function bareSocket(
  host = "127.0.0.1",
): Promise<{ socket: dgram.Socket; port: number }> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  socket.bind(0, host);
  await once(socket, "listening");
  onTestFinished(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, port: socket.address().port };
}
