import { createConnection } from "node:net";
import { describe, expect, test } from "vitest";
import { runPython, startTutorialServer, tutorialListing } from "./testing.ts";

describe("tutorialListing()", () => {
  test("swaps in port and host and keeps the rest as printed", () => {
    const source = tutorialListing("3.5 udp client", { port: 41234, host: "127.0.0.1" });
    expect(source).toContain("port = 41234\n");
    expect(source).toContain('host = "127.0.0.1"\n');
    expect(source).toContain("data = '1' * 18");
  });
  test("announces a server once it listens", () => {
    const source = tutorialListing("3.2 web server", { port: 0, announce: true });
    expect(source).toMatch(
      /s\.listen\(1\)\nprint\('socklab-ready', s\.getsockname\(\), flush=True\)\ncon, addr = s\.accept\(\)/,
    );
  });
});

describe("startTutorialServer()", () => {
  test("runs listing 3.2 on a system-picked port and it answers", async () => {
    const { python, port } = await startTutorialServer("3.2 web server", { host: "127.0.0.1" });
    expect(port).toBeGreaterThan(0);
    const socket = createConnection(port, "127.0.0.1");
    socket.end("GET / HTTP/1.0\r\n\r\n");
    let answer = "";
    for await (const chunk of socket) answer += chunk;
    expect(answer).toBe(
      "HTTP/1.0 200 OK\r\ncontent-type: text/html\r\n\r\n<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>",
    );
    expect(await python.exited).toBe(0);
  });
  test("runPython() reports an early exit instead of hanging", async () => {
    const py = runPython("import sys; sys.exit(3)");
    await expect(py.waitForLine(/never/)).rejects.toThrow(/ended \(3\)/);
  });
});
