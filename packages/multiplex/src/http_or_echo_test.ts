import { once } from "node:events";
import { connect } from "node:net";
import type { ConnectionHandler } from "@socklab/core";
import { afterEach, describe, expect, test } from "vitest";
import { httpOrEcho } from "./http_or_echo.ts";
import { Multiplexer } from "./multiplexer.ts";

const muxes: Multiplexer[] = [];
afterEach(async () => {
  await Promise.all(muxes.splice(0).map((m) => m.close({ graceMs: 100 })));
});

const web: ConnectionHandler = async (conn) => {
  const head = await conn.readUntil("\r\n\r\n", 8192);
  await conn.write(`HTTP/1.0 200 OK\r\n\r\n${head.toString("latin1").split(" ")[1]}`);
};

async function start(): Promise<number> {
  const mux = new Multiplexer(httpOrEcho(web), { idleTickMs: 0 });
  muxes.push(mux);
  const [uri] = await mux.listenTcp({ host: "127.0.0.1", port: 0 });
  return Number(/:(\d+)$/.exec(uri!)![1]);
}

async function exchange(port: number, parts: string[]): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  for (const part of parts) {
    socket.write(part);
    await new Promise((r) => setImmediate(r));
  }
  socket.end();
  let text = "";
  for await (const chunk of socket) text += chunk;
  return text;
}

describe("httpOrEcho()", () => {
  test.each([
    [["GET /page HTTP/1.0\r\n\r\n"], "HTTP/1.0 200 OK\r\n\r\n/page"],
    [["G", "E", "T /split HTTP/1.1\r\n\r\n"], "HTTP/1.0 200 OK\r\n\r\n/split"],
    [["HEAD / HTTP/1.1\r\n\r\n"], "HTTP/1.0 200 OK\r\n\r\n/"],
    [["abc\r\n"], "abc\r\n"],
    [["GE"], "GE"],
    [["GETTING /x\r\n"], "GETTING /x\r\n"],
    [["\x00\x01binary"], "\x00\x01binary"],
  ])("answers %j with %j", async (parts, expected) => {
    expect(await exchange(await start(), parts)).toBe(expected);
  });
});
