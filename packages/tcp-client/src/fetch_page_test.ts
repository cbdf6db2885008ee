import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import type * as net from "node:net";
import { LimitExceededError, TimeoutError } from "@socklab/core";
import { makeTempDir, runPython, startTutorialServer } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { listen } from "./_test_server.ts";
import { fetchPage } from "./fetch_page.ts";

const TUTORIAL_PAGE =
  "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>";

/** A server that waits for a request head, hands it to the test and runs `answer`. */
async function httpServer(answer: (socket: net.Socket, request: string) => void) {
  const requests: string[] = [];
  const srv = await listen("127.0.0.1", (socket) => {
    let got = "";
    const onData = (chunk: Buffer): void => {
      got += chunk.toString("latin1");
      if (!got.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      requests.push(got);
      answer(socket, got);
    };
    socket.on("data", onData);
  });
  return { ...srv, requests };
}

describe("fetchPage() against real servers", () => {
  test("fetchPage() gets the tutorial's page from its Python server (listing 3.2) via localhost", async () => {
    const { python, port } = await startTutorialServer("3.2 web server");
    onTestFinished(() => python.kill());
    const page = await fetchPage({ host: "localhost", port });
    expect(page.raw.toString("utf8")).toBe(
      `HTTP/1.0 200 OK\r\ncontent-type: text/html\r\n\r\n${TUTORIAL_PAGE}`,
    );
    expect(page).toMatchObject({
      version: "1.0",
      status: 200,
      reason: "OK",
      headers: { "content-type": "text/html" },
      remote: `127.0.0.1:${port}`,
    });
    expect(page.body.toString("utf8")).toBe(TUTORIAL_PAGE);
    // The listing serves one connection and exits without a traceback.
    expect(await python.exited).toBe(0);
    expect(python.stderr()).toBe("");
  });

  test("fetchPage() reads Python's http.server: content-length, 200 and 404", async () => {
    const dir = await makeTempDir("tcp-client-http");
    onTestFinished(() => dir.remove());
    const file = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x42]);
    await writeFile(`${dir.path}/data.bin`, file);
    const python = runPython(
      [
        "import runpy, sys",
        `sys.argv = ['http.server', '0', '--bind', '127.0.0.1', '--directory', ${JSON.stringify(dir.path)}]`,
        "runpy.run_module('http.server', run_name='__main__')",
      ].join("\n"),
    );
    onTestFinished(() => python.kill());
    const m = await python.waitForLine(/^Serving HTTP on 127\.0\.0\.1 port (\d+)/);
    const port = Number(m[1]);
    const page = await fetchPage({ host: "127.0.0.1", port, path: "/data.bin", version: "1.1" });
    expect(page.status).toBe(200);
    expect(page.headers["content-length"]).toBe(String(file.length));
    expect(page.body.equals(file)).toBe(true);
    const missing = await fetchPage({ host: "127.0.0.1", port, path: "/missing" });
    expect(missing.status).toBe(404);
  });

  test("fetchPage() sends exactly the tutorial's request: GET / HTTP/1.0 and a blank line", async () => {
    const srv = await httpServer((socket) => socket.end("HTTP/1.0 200 OK\r\n\r\nhi"));
    const page = await fetchPage({ host: "127.0.0.1", port: srv.port });
    expect(srv.requests).toEqual(["GET / HTTP/1.0\r\n\r\n"]);
    expect(page.body.toString()).toBe("hi");
  });

  test("fetchPage() with version 1.1 adds Host and Connection: close after the caller's headers", async () => {
    const srv = await httpServer((socket) => socket.end("HTTP/1.1 200 OK\r\n\r\n"));
    await fetchPage({
      host: "127.0.0.1",
      port: srv.port,
      path: "/a?b=c",
      version: "1.1",
      headers: { Accept: "text/html" },
    });
    expect(srv.requests).toEqual([
      `GET /a?b=c HTTP/1.1\r\nAccept: text/html\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: close\r\n\r\n`,
    ]);
  });

  test("fetchPage() stops at content-length when the server keeps the connection open", async () => {
    const srv = await httpServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
    );
    const page = await fetchPage({ host: "127.0.0.1", port: srv.port, timeoutMs: 5000 });
    expect(page.body.toString()).toBe("hello");
    // We ended the connection, not the server.
    const peer = srv.accepted[0]!;
    if (!peer.readableEnded) await once(peer, "end");
  });

  test("fetchPage() without content-length times out when the server never closes", async () => {
    const srv = await httpServer((socket) => socket.write("HTTP/1.0 200 OK\r\n\r\npartial"));
    const err = await fetchPage({ host: "127.0.0.1", port: srv.port, timeoutMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe(
      `Cannot receive from "127.0.0.1:${srv.port}": timed out after 50 ms`,
    );
  });

  test("fetchPage() decodes a chunked body and keeps the chunks in raw", async () => {
    const wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHallo\r\n7;ext=1\r\n Welt!\n\r\n0\r\nX-T: 1\r\n\r\n";
    const srv = await httpServer((socket) => {
      // Byte by byte, so every read meets a split.
      const bytes = Buffer.from(wire);
      let i = 0;
      const next = (): void => {
        if (i < bytes.length) socket.write(bytes.subarray(i, ++i), next);
      };
      next();
    });
    const page = await fetchPage({ host: "127.0.0.1", port: srv.port, version: "1.1" });
    expect(page.body.toString()).toBe("Hallo Welt!\n");
    expect(page.raw.toString()).toBe(wire);
  });

  test("fetchPage() with HEAD expects no body despite content-length", async () => {
    const srv = await httpServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"),
    );
    const page = await fetchPage({ host: "127.0.0.1", port: srv.port, method: "HEAD" });
    expect(srv.requests).toEqual(["HEAD / HTTP/1.0\r\n\r\n"]);
    expect(page.body.length).toBe(0);
    expect(page.headers["content-length"]).toBe("1234");
  });

  test("fetchPage() skips a 100 Continue before the real answer", async () => {
    const srv = await httpServer((socket) =>
      socket.end(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
      ),
    );
    const page = await fetchPage({ host: "127.0.0.1", port: srv.port });
    expect(page.status).toBe(201);
    expect(page.body.toString()).toBe("ok");
    expect(page.raw.toString()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201/);
  });
});

describe("fetchPage() reports bad answers in one line", () => {
  test.each([
    [
      "an echo of the request",
      (socket: net.Socket, request: string) => socket.end(request),
      /the status line "GET \/ HTTP\/1\.0" is not "HTTP\/x\.y code reason"$/,
    ],
    [
      "a close before any answer",
      (socket: net.Socket) => socket.end(),
      /the server closed the connection after 0 bytes, before the end of the head$/,
    ],
    [
      "a body cut short",
      (socket: net.Socket) => socket.end("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
      /the server closed the connection after 3 of 10 body bytes$/,
    ],
    [
      "a bad content-length",
      (socket: net.Socket) => socket.end("HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n"),
      /the content-length "-1" is not a number$/,
    ],
    [
      "a broken chunk",
      (socket: net.Socket) =>
        socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n"),
      /a chunk does not end with CRLF$/,
    ],
    [
      "chunks cut short",
      (socket: net.Socket) =>
        socket.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab"),
      /the server closed the connection before the last chunk$/,
    ],
  ])("fetchPage() rejects %s", async (_name, answer, message) => {
    const srv = await httpServer(answer);
    const err = await fetchPage({ host: "127.0.0.1", port: srv.port }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ERR_SOCKLAB_BAD_RESPONSE" });
    expect((err as Error).message).toMatch(
      new RegExp(`^Cannot read the HTTP response from "127\\.0\\.0\\.1:${srv.port}": `),
    );
    expect((err as Error).message).toMatch(message);
  });

  test.each([
    ["a content-length above maxBytes", "HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n"],
    ["a body without length above maxBytes", "HTTP/1.0 200 OK\r\n\r\n0123456789a"],
  ])("fetchPage() refuses %s", async (_name, wire) => {
    const srv = await httpServer((socket) => socket.end(wire));
    const err = await fetchPage({ host: "127.0.0.1", port: srv.port, maxBytes: 10 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as Error).message).toBe(
      `Cannot receive from "127.0.0.1:${srv.port}": the body is larger than 10 bytes`,
    );
  });

  test.each([
    [{ path: "/a b" }, /^Cannot request path "\/a b"/],
    [{ path: "" }, /^Cannot request path ""/],
    [{ method: "G T" }, /^Cannot send method "G T"/],
    [{ version: "2" }, /^Cannot use HTTP version "2"/],
    [{ headers: { "X-A": "a\r\nInjected: 1" } }, /^Cannot send header "X-A"/],
    [{ headers: { "Bad Name": "x" } }, /^Cannot send header name "Bad Name"/],
  ])("fetchPage(%j) is refused before connecting", async (options, message) => {
    const err = await fetchPage({ host: "127.0.0.1", port: 1, ...(options as object) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: "ERR_SOCKLAB_INVALID_REQUEST" });
    expect((err as Error).message).toMatch(message);
  });
});
