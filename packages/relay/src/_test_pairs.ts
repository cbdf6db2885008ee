/**
 * Test support: a real loopback connection with a StreamConnection on one side.
 *
 * @module
 */
import { once } from "node:events";
import * as net from "node:net";
import { parseAddress, type StreamConnection } from "@socklab/core";
import { closeAfterTest } from "@socklab/core/testing";
import { connectStream } from "./stream_address.ts";

/** A connected pair over a real loopback TCP socket: `ours` a StreamConnection, `theirs` a plain socket. */
export async function socketPair(): Promise<{ ours: StreamConnection; theirs: net.Socket }> {
  let accept!: (socket: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => {
    accept = resolve;
  });
  const server = net.createServer({ allowHalfOpen: true }, accept);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  closeAfterTest(server);
  const ours = await connectStream(parseAddress(`tcp://127.0.0.1:${port}`));
  const theirs = await accepted;
  return { ours, theirs };
}

/** Everything a socket receives until its end of stream. */
export function collect(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return once(socket, "end").then(() => Buffer.concat(chunks));
}
