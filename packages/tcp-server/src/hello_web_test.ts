import { execFile } from "node:child_process";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { promisify } from "node:util";
import { StreamConnection } from "@socklab/core";
import { requireTools, runPython, tutorialListing } from "@socklab/core/testing";
import fc from "fast-check";
import { afterEach, describe, expect, onTestFinished, test } from "vitest";
import { HELLO_HTML, type HelloWebOptions, type HelloWebRequest, helloWeb } from "./hello_web.ts";
import { type ListenTcpOptions, listenTcp, type TcpServer } from "./listen_tcp.ts";

const run = promisify(execFile);

const servers: TcpServer[] = [];
const clients: StreamConnection[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 100 })));
});

async function serve(
  options: HelloWebOptions = {},
  listen: Partial<ListenTcpOptions> = {},
): Promise<{ server: TcpServer; port: number; requests: HelloWebRequest[] }> {
  const requests: HelloWebRequest[] = [];
  const web = helloWeb({
    headerTimeoutMs: 5000,
    ...options,
    onRequest: (r) => {
      requests.push(r);
      options.onRequest?.(r);
    },
  });
  const server = await listenTcp({
    host: "127.0.0.1",
    port: 0,
    handler: web,
    onRefused: web.onRefused,
    ...listen,
  });
  servers.push(server);
  return { server, port: server.port, requests };
}

async function client(port: number, host = "127.0.0.1"): Promise<StreamConnection> {
  const socket = connect(port, host);
  await once(socket, "connect");
  socket.setNoDelay(true);
  const conn = new StreamConnection(socket);
  clients.push(conn);
  return conn;
}

interface Response {
  status: number;
  statusLine: string;
  headers: Record<string, string>;
  body: string;
  raw: Buffer;
}

/** Reads one response: the head, then `content-length` bytes (none for a HEAD request). */
async function readResponse(conn: StreamConnection, head = false): Promise<Response> {
  const top = await conn.readUntil("\r\n\r\n", 16384, { timeoutMs: 5000 });
  const [statusLine = "", ...lines] = top.toString("latin1").slice(0, -4).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = await conn.readExactly(head ? 0 : Number(headers["content-length"] ?? 0));
  return {
    status: Number(statusLine.split(" ")[1]),
    statusLine,
    headers,
    body: body.toString("utf8"),
    raw: Buffer.concat([top, body]),
  };
}

/** Sends `request` on a fresh connection and reads one response and the end of the stream. */
async function once1(port: number, request: string | Buffer): Promise<Response & { rest: Buffer }> {
  const conn = await client(port);
  await conn.write(request);
  const response = await readResponse(conn);
  const rest = await conn.readToEnd(1 << 20, { timeoutMs: 5000 });
  return { ...response, rest };
}

const GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const GET_CLOSE = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

describe("helloWeb()", () => {
  test("answers GET / with the tutorial's page byte for byte and the required headers", async () => {
    const { port } = await serve();
    const r = await once1(port, "GET / HTTP/1.0\r\n\r\n");
    expect(r.statusLine).toBe("HTTP/1.1 200 OK");
    expect(r.body).toBe(HELLO_HTML);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.headers["content-length"]).toBe(String(Buffer.byteLength(HELLO_HTML)));
    expect(new Date(r.headers.date!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(r.headers.connection).toBe("close");
    expect(r.rest.length).toBe(0);
  });

  test("the tutorial's listing 3.3 client, exactly as printed, gets and prints the page", async () => {
    const { port, requests } = await serve();
    const py = runPython(tutorialListing("3.3 client", { port, host: "127.0.0.1" }));
    expect(await py.exited).toBe(0);
    expect(py.stderr()).toBe("");
    // It prints repr() of the decoded answer: the whole response in one recv(4096).
    expect(py.lines).toHaveLength(1);
    expect(py.lines[0]).toMatch(
      /^'HTTP\/1\.1 200 OK\\r\\ncontent-type: text\/html; charset=utf-8\\r\\n/,
    );
    expect(py.lines[0]!.endsWith(`\\r\\n\\r\\n${HELLO_HTML}'`)).toBe(true);
    expect(requests.map((r) => [r.requestLine, r.status, r.keepAlive])).toEqual([
      ["GET / HTTP/1.0", 200, false],
    ]);
  });

  test("a lone request line is answered as HTTP/1.0 after the grace period, not before", async () => {
    const { port } = await serve({ requestLineGraceMs: 50 });
    const conn = await client(port);
    const t0 = performance.now();
    await conn.write("GET / HTTP/1.1\r\n");
    const r = await readResponse(conn);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe("close");
    expect(r.body).toBe(HELLO_HTML);
  });

  test("a request line followed by the end of the stream is answered at once as HTTP/1.0", async () => {
    // printf 'GET / HTTP/1.1\r\n' | nc -N host port: no blank line, but nothing more will come.
    const { port } = await serve({ requestLineGraceMs: 200, headerTimeoutMs: 10_000 });
    const conn = await client(port);
    await conn.end("GET / HTTP/1.1\r\n");
    const r = await readResponse(conn);
    expect([r.status, r.headers.connection, r.body]).toEqual([200, "close", HELLO_HTML]);
  });

  test("curl over HTTP/1.0 gets the page", async ({ skip }) => {
    requireTools(skip, "curl");
    const { port } = await serve();
    const { stdout } = await run("curl", ["-s", "-0", "-i", `http://127.0.0.1:${port}/`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toContain("connection: close\r\n");
    expect(stdout.endsWith(`\r\n\r\n${HELLO_HTML}`)).toBe(true);
  });

  test("curl with HTTP/1.1 keep-alive fetches twice over one connection", async ({ skip }) => {
    requireTools(skip, "curl");
    const { server, port } = await serve();
    const url = `http://127.0.0.1:${port}/`;
    const { stdout, stderr } = await run("curl", ["-s", "-v", url, url]);
    expect(stdout).toBe(HELLO_HTML + HELLO_HTML);
    expect(stderr).toMatch(/Re-using existing connection/i);
    expect(server.stats.accepted).toBe(1);
  });

  test("curl -I (HEAD) gets the headers and no body", async ({ skip }) => {
    requireTools(skip, "curl");
    const { port } = await serve();
    const { stdout } = await run("curl", ["-s", "-I", `http://127.0.0.1:${port}/`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toContain(`content-length: ${Buffer.byteLength(HELLO_HTML)}\r\n`);
    expect(stdout).not.toContain("Hallo");
  });

  test("HEAD sends the head only, and the connection goes on with the next request", async () => {
    const { port } = await serve();
    const conn = await client(port);
    await conn.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    const head = await readResponse(conn, true);
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(HELLO_HTML)));
    await conn.write(GET);
    const get = await readResponse(conn);
    expect(get.body).toBe(HELLO_HTML);
  });

  test("paths: /?query, absolute-form and dot segments are /; others are 404", async () => {
    const { port } = await serve();
    const conn = await client(port);
    const cases: [string, number][] = [
      ["/?lang=de", 200],
      ["http://example.com/", 200],
      ["/./%2e/", 200],
      ["/a/..", 200],
      ["/index.html", 404],
      ["/%7E", 404],
    ];
    for (const [target, status] of cases) {
      await conn.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const r = await readResponse(conn);
      expect([target, r.status]).toEqual([target, status]);
      if (status === 404) expect(r.body).toContain("<h1>404 Not Found</h1>");
    }
  });

  test.for([
    ["raw garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400],
    ["telnet's abc", "abc\r\n", 400],
    ["a header line without a colon", "GET / HTTP/1.1\r\nHost: x\r\nbogus\r\n\r\n", 400],
    ["a folded header line", "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n", 400],
    ["whitespace before a colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400],
    ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400],
    [
      "a chunked body",
      "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
    ],
    ["an asterisk-form GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["bad percent-encoding", "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    ["POST", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505],
    ["a head that ends mid-line", "GET / HTTP/1.1\r\nHo", 400],
  ] as const)("%s → %i, then close; the next client is served", async ([, request, status]) => {
    const { port, requests } = await serve();
    const conn = await client(port);
    await conn.end(Buffer.from(request, "latin1"));
    const r = await readResponse(conn);
    expect(r.status).toBe(status);
    expect(r.headers.connection).toBe("close");
    expect(await conn.readToEnd()).toHaveLength(0);
    expect(requests[0]!.status).toBe(status);
    expect(requests[0]!.reason).not.toBe("");
    expect((await once1(port, GET_CLOSE)).body).toBe(HELLO_HTML);
  });

  test("405 names the allowed methods", async () => {
    const { port } = await serve();
    const r = await once1(port, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD");
  });

  test("a head over 8 KiB gets 431; a request line over 8 KiB gets 414", async () => {
    const { port } = await serve();
    const big = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8200)}\r\n\r\n`;
    expect((await once1(port, big)).status).toBe(431);
    const long = `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`;
    expect((await once1(port, long)).status).toBe(414);
    // An endless head without a line end is cut off at the limit too, not buffered forever.
    const conn = await client(port);
    void conn.write(Buffer.alloc(64 * 1024, "a")).catch(() => {});
    expect((await readResponse(conn)).status).toBe(400);
    expect((await once1(port, GET_CLOSE)).status).toBe(200);
  });

  test("a request split byte by byte is answered once it is complete", async () => {
    let chunks = 0;
    let received = 0;
    let wake: (() => void) | undefined;
    const { port } = await serve({
      onReceive: (data) => {
        chunks += 1;
        received += data.length;
        wake?.();
      },
    });
    const conn = await client(port);
    for (const [i, byte] of Buffer.from(GET).entries()) {
      await conn.write(Buffer.of(byte));
      // Wait until the server has read it, so that each byte is a read of its own.
      while (received <= i) await new Promise<void>((resolve) => (wake = resolve));
    }
    const r = await readResponse(conn);
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe("keep-alive");
    expect(r.body).toBe(HELLO_HTML);
    expect(chunks).toBe(Buffer.byteLength(GET));
  });

  test("any split of two pipelined requests gets the same two answers", async () => {
    const { port } = await serve({ requestLineGraceMs: 0 });
    const request = Buffer.from(`${GET}GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: request.length - 1 }), { maxLength: 6 }),
        async (cuts) => {
          const conn = await client(port);
          let from = 0;
          for (const at of [...cuts.sort((a, b) => a - b), request.length]) {
            await conn.write(request.subarray(from, at));
            from = at;
          }
          expect((await readResponse(conn)).status).toBe(200);
          expect((await readResponse(conn)).status).toBe(404);
          expect(await conn.readToEnd()).toHaveLength(0);
        },
      ),
      { numRuns: 25 },
    );
  });

  test("pipelined requests in one write are answered in order", async () => {
    const { port } = await serve();
    const conn = await client(port);
    await conn.write(
      `GET /x HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n${GET}GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expect((await readResponse(conn)).status).toBe(404);
    const head = await readResponse(conn, true);
    expect([head.status, head.body]).toEqual([200, ""]);
    expect((await readResponse(conn)).body).toBe(HELLO_HTML);
    const last = await readResponse(conn);
    expect([last.status, last.headers.connection]).toEqual([200, "close"]);
    expect(await conn.readToEnd()).toHaveLength(0);
  });

  test("HTTP/1.1 stays open unless Connection: close; HTTP/1.0 only with keep-alive", async () => {
    const { server, port } = await serve();
    const conn = await client(port);
    await conn.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect((await readResponse(conn)).headers.connection).toBe("keep-alive");
    await conn.write(GET);
    expect((await readResponse(conn)).headers.connection).toBe("keep-alive");
    await conn.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect((await readResponse(conn)).headers.connection).toBe("close");
    expect(await conn.readToEnd()).toHaveLength(0);
    expect(server.stats.accepted).toBe(1);
  });

  test("a GET body announced by Content-Length is read and dropped; a larger one gets 413", async () => {
    const { port } = await serve({ maxBodyBytes: 100 });
    const conn = await client(port);
    await conn.write("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n");
    await conn.write("b".repeat(20));
    await conn.write(`${"b".repeat(30)}${GET}`);
    expect((await readResponse(conn)).status).toBe(200);
    expect((await readResponse(conn)).status).toBe(200);
    await conn.write("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
    expect((await readResponse(conn)).status).toBe(413);
  });

  test("a first byte no method begins with gets 400 at once, not 408 after the header timeout", async () => {
    const { port, requests } = await serve({ headerTimeoutMs: 10_000 });
    for (const junk of [
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01]), // the start of a TLS ClientHello
      Buffer.from([0x00, 0x01, 0x02]),
      Buffer.from(" GET / HTTP/1.1"),
      Buffer.from("\r\r"),
    ]) {
      const t0 = performance.now();
      const r = await once1(port, junk);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect([r.status, r.headers.connection, r.rest.length]).toEqual([400, "close", 0]);
    }
    expect(requests.map((q) => q.reason)).toEqual([
      "a TLS handshake: this server speaks plain HTTP (http://, not https://)",
      "not an HTTP request (no method begins with this byte)",
      "not an HTTP request (no method begins with this byte)",
      "not an HTTP request (no method begins with this byte)",
    ]);
  });

  test("empty lines before a request, split after the CR, are still skipped", async () => {
    const { port } = await serve();
    const conn = await client(port);
    await conn.write("\r\n\r");
    await conn.write(`\n${GET_CLOSE}`);
    expect((await readResponse(conn)).status).toBe(200);
  });

  test("curl https:// to the plain server fails at once with a TLS error, not after 10 s", async ({
    skip,
  }) => {
    requireTools(skip, "curl");
    const { port, requests } = await serve({ headerTimeoutMs: 10_000 });
    const t0 = performance.now();
    const failed = await run("curl", ["-sS", "--max-time", "8", `https://127.0.0.1:${port}/`]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(failed?.code).toBe(35); // SSL connect error: the answer is not TLS
    expect(requests.map((q) => q.status)).toEqual([400]);
  });

  test("a client that sends nothing gets 408 after the header timeout", async () => {
    const { port, requests } = await serve({ headerTimeoutMs: 100 });
    const conn = await client(port);
    const t0 = performance.now();
    const r = await readResponse(conn);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
    expect(r.status).toBe(408);
    expect(await conn.readToEnd()).toHaveLength(0);
    expect(requests.map((q) => [q.requestLine, q.status])).toEqual([["", 408]]);
  });

  test("a client dribbling its head gets 408 when the header timeout runs out", async () => {
    const { port } = await serve({ headerTimeoutMs: 150 });
    const conn = await client(port);
    const t0 = performance.now();
    await conn.write("GET / HTTP/1.1\r\n");
    // Keep sending header bytes: activity alone does not extend the deadline.
    const dribble = setInterval(() => void conn.write("X-A: b\r\n").catch(() => {}), 20);
    try {
      const r = await readResponse(conn);
      expect(r.status).toBe(408);
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      clearInterval(dribble);
    }
  });

  test("an idle keep-alive connection is closed after the keep-alive timeout, without a 408", async () => {
    const { port, requests } = await serve({ keepAliveTimeoutMs: 100 });
    const conn = await client(port);
    await conn.write(GET);
    const r = await readResponse(conn);
    expect(r.headers["keep-alive"]).toBe("timeout=1");
    expect(await conn.readToEnd(1 << 20, { timeoutMs: 3000 })).toHaveLength(0);
    expect(requests.map((q) => q.status)).toEqual([200]);
  });

  test("closing with a large unread request does not reset the connection: the answer arrives", async () => {
    const { port } = await serve();
    const conn = await client(port);
    const body = Buffer.alloc(4 * 1024 * 1024, "x");
    const sent = conn.write(
      Buffer.concat([
        Buffer.from(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`),
        body,
      ]),
    );
    const r = await readResponse(conn);
    expect(r.status).toBe(405);
    await sent;
    await conn.end();
    expect(await conn.readToEnd()).toHaveLength(0);
  });

  test("over maxConnections a client gets 503 and the others are still served", async () => {
    const { server, port, requests } = await serve({}, { maxConnections: 1 });
    const first = await client(port);
    await first.write(GET);
    await readResponse(first);
    const refused = await client(port);
    await refused.write(GET);
    const r = await readResponse(refused);
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("1");
    expect(await refused.readToEnd()).toHaveLength(0);
    await first.write(GET);
    expect((await readResponse(first)).status).toBe(200);
    expect(server.stats).toMatchObject({ accepted: 1, refused: 1 });
    first.destroy();
    await once(server, "close");
    expect((await once1(port, GET_CLOSE)).status).toBe(200);
    expect(requests.every((q) => q.status === 200)).toBe(true);
  });

  test("closing the server closes idle keep-alive connections at once", async () => {
    const { server, port } = await serve();
    const conn = await client(port);
    await conn.write(GET);
    await readResponse(conn);
    const t0 = performance.now();
    const closed = server.close({ graceMs: 5000 });
    expect(await conn.readToEnd()).toHaveLength(0);
    expect(performance.now() - t0).toBeLessThan(1000);
    await conn.end();
    await closed;
  });

  test("reports each request: peer, request line, status, reason, bytes", async () => {
    const received: Buffer[] = [];
    const { port, requests } = await serve({ onReceive: (data) => received.push(data) });
    const conn = await client(port);
    await conn.write(GET);
    const r = await readResponse(conn);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      requestLine: "GET / HTTP/1.1",
      status: 200,
      reason: "",
      bytes: r.raw.length,
      keepAlive: true,
    });
    expect(requests[0]!.connection.remote).toBe(`127.0.0.1:${conn.socket.localPort}`);
    expect(Buffer.concat(received).toString()).toBe(GET);
  });

  test("serves another page when asked", async () => {
    const { port } = await serve({ html: "<p>ok</p>" });
    expect((await once1(port, "GET / HTTP/1.0\r\n\r\n")).body).toBe("<p>ok</p>");
  });

  test("rejects bad options with a RangeError", () => {
    expect(() => helloWeb({ requestLineGraceMs: 500 })).toThrow(
      'Cannot use requestLineGraceMs "500": it must be a whole number from 0 to 200',
    );
    expect(() => helloWeb({ headerTimeoutMs: 0 })).toThrow(RangeError);
  });
});

/** A raw client socket that has not read anything yet (paused), destroyed after the test. */
async function pausedSocket(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.pause();
  socket.on("error", () => {});
  onTestFinished(() => {
    socket.destroy();
  });
  await once(socket, "connect");
  socket.setNoDelay(true);
  return socket;
}

/** Counts the responses on a socket as they arrive: how many, and which said `connection: close`. */
class ResponseCounter {
  count = 0;
  closes: number[] = [];
  bytes = 0;
  #rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    const buf = this.#rest.length === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    let pos = 0;
    for (;;) {
      const end = buf.indexOf("\r\n\r\n", pos);
      if (end < 0) break;
      const head = buf.toString("latin1", pos, end);
      const total = end + 4 + Number(/content-length: (\d+)/.exec(head)?.[1] ?? 0);
      if (total > buf.length) break;
      this.count += 1;
      if (head.includes("connection: close")) this.closes.push(this.count);
      pos = total;
    }
    this.#rest = buf.subarray(pos);
  }
}

/**
 * Reads a socket until it closes or `count` responses came, at most `bytesPerMs`
 * (pausing after each chunk for as long as the chunk "takes" at that rate).
 */
function readSlowly(socket: Socket, bytesPerMs: number, count: number): Promise<ResponseCounter> {
  const counter = new ResponseCounter();
  return new Promise((resolve) => {
    const done = (): void => resolve(counter);
    socket.on("data", (chunk: Buffer) => {
      counter.push(chunk);
      if (counter.count >= count) return done();
      socket.pause();
      setTimeout(() => socket.resume(), chunk.length / bytesPerMs);
    });
    socket.on("close", done);
    socket.resume();
  });
}

describe("helloWeb() with a client that reads slowly", () => {
  test("a request line that ends a chunk is not answered early while the server waits for the client to read", async () => {
    let served = 0;
    let batchEnd = 0;
    let last = "";
    let web: StreamConnection | undefined;
    const { port, requests } = await serve({
      requestLineGraceMs: 200,
      onRequest: (r) => {
        served += 1;
        web = r.connection;
        // The rest of the request whose line ends a batch, as soon as the
        // requests before it are answered (well within the grace period).
        if (served === batchEnd && r.connection.socket.remotePort === socket.localPort) {
          socket.write(`Host: x\r\n\r\n${last}`);
        }
      },
    });
    const socket = await pausedSocket(port);
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    // Batches of whole requests, each ending with a request line, while the
    // client reads nothing: until the system buffers are full of answers and
    // the server, holding a lone request line, waits for the client to read.
    let sent = 0;
    while (web === undefined || web.socket.writableLength === 0) {
      expect(sent).toBeLessThan(1_000_000);
      socket.write(`${GET.repeat(1000)}GET / HTTP/1.1\r\n`);
      batchEnd = sent + 1000;
      sent += 1001;
      while (served < sent && (web === undefined || web.socket.writableLength === 0)) await turn();
    }
    // A lone request line on a second connection, answered after the same
    // grace period, tells when that period is over.
    const clock = await client(port);
    await clock.write("GET / HTTP/1.1\r\n");
    expect((await readResponse(clock)).headers.connection).toBe("close");
    // One more request, to close the connection, after the rest of the last batch.
    if (served >= batchEnd) socket.write(GET_CLOSE);
    else last = GET_CLOSE;
    const counter = await readSlowly(socket, 1 << 20, Number.POSITIVE_INFINITY);
    expect(counter.count).toBe(sent + 1);
    expect(counter.closes).toEqual([sent + 1]);
    expect(requests.filter((r) => r.status !== 200)).toEqual([]);
  });

  test("a client that pipelines requests and reads none of the answers is dropped after the header timeout", async () => {
    let web: StreamConnection | undefined;
    const { port } = await serve({
      headerTimeoutMs: 300,
      onRequest: (r) => {
        web ??= r.connection;
      },
    });
    const socket = await pausedSocket(port);
    // About 10 MB of answers: more than the system buffers hold.
    socket.write(GET.repeat(40_000));
    while (web === undefined) await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    await web.closed;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    const counter = await readSlowly(socket, 1 << 20, Number.POSITIVE_INFINITY);
    expect(counter.count).toBeLessThan(40_000);
  });

  test("100,000 pipelined requests to a client reading at 8 MB/s are all answered, with bounded buffers", async () => {
    const count = 100_000;
    let peakOutput = 0;
    let peakInput = 0;
    const { port } = await serve({
      onRequest: (r) => {
        peakOutput = Math.max(peakOutput, r.connection.socket.writableLength);
        peakInput = Math.max(peakInput, r.connection.bufferedBytes);
      },
    });
    const socket = await pausedSocket(port);
    const reading = readSlowly(socket, 8000, count);
    // Writes of about 27 KB, each ending with a request line (the rest follows in the next write).
    const all = Buffer.from(GET.repeat(count));
    const step = 1000 * GET.length;
    for (let from = 0; from < all.length && !socket.destroyed; ) {
      const to = Math.min(all.length, from + step + "GET / HTTP/1.1\r\n".length);
      if (!socket.write(all.subarray(from, to))) {
        await Promise.race([once(socket, "drain"), once(socket, "close")]);
      }
      from = to;
    }
    const counter = await reading;
    expect(counter.count).toBe(count);
    expect(counter.closes).toEqual([]);
    // The server answers no more while its output is backed up, and reads no further ahead than maxBuffered.
    expect(peakOutput).toBeLessThan(128 * 1024);
    expect(peakInput).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
  }, 30_000);
});
