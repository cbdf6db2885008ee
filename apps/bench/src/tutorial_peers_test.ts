import { connect } from "node:net";
import { runPython, tutorialListing } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { loopedWebServer, selectEchoServer } from "./tutorial_peers.ts";

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.0\r\n\r\n"));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
  });
}

describe("loopedWebServer()", () => {
  test("loopedWebServer() is listing 3.2 with accept() … con.close() inside while True, nothing else changed", () => {
    const listing = tutorialListing("3.2 web server", {
      host: "127.0.0.1",
      port: 0,
      announce: true,
    });
    const looped = loopedWebServer();
    // Removing the loop line and the indentation gives the listing back.
    const unlooped = looped
      .split("\n")
      .filter((line) => line !== "while True:")
      .map((line) => line.replace(/^ {4}/, ""))
      .join("\n");
    expect(unlooped).toBe(listing);
    expect(looped).toMatch(/^while True:\n {4}con, addr = s\.accept\(\)$/m);
    expect(looped).toMatch(/^ {4}con\.close\(\)\ns\.close\(\)$/m);
  });

  test("loopedWebServer() answers one request after another", async () => {
    const python = runPython(loopedWebServer());
    onTestFinished(() => python.kill());
    const ready = await python.waitForLine(/^socklab-ready \('127\.0\.0\.1', (\d+)\)/);
    const port = Number(ready[1]);
    for (let i = 0; i < 3; i++) {
      const response = await get(port);
      expect(response).toMatch(/^HTTP\/1\.0 200 OK\r\n/);
      expect(response).toContain("<h1>Hallo Welt!</h1>");
    }
  });
});

describe("selectEchoServer()", () => {
  test("selectEchoServer() echoes on a free port", async () => {
    const python = runPython(selectEchoServer());
    onTestFinished(() => python.kill());
    const port = Number((await python.waitForLine(/^socklab-ready \('127\.0\.0\.1', (\d+)\)/))[1]);
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write("abc"));
      socket.once("data", (chunk: Buffer) => {
        resolve(chunk.toString());
        socket.end();
      });
      socket.on("error", reject);
    });
    expect(echoed).toBe("abc");
  });
});
