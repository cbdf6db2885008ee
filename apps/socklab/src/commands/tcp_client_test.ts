import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { open, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { createInterface } from "node:readline";
import { hasIpv6Loopback } from "@socklab/core";
import { makeTempDir, requireTools, startTutorialServer } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { type CliResult, runCli, SOCKLAB_BIN, startCli } from "../_test_cli.ts";

const TUTORIAL_ANSWER =
  "HTTP/1.0 200 OK\r\ncontent-type: text/html\r\n\r\n" +
  "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>";

/** A loopback server on port 0 whose connections go to `onConnection`; closed after the test. */
async function listen(
  onConnection: (socket: net.Socket) => void,
  host = "127.0.0.1",
): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  server.listen({ host, port: 0, ipv6Only: host.includes(":") });
  await once(server, "listening");
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, "close");
  });
  return (server.address() as net.AddressInfo).port;
}

/** Collects what a connection sends until its half-close, then calls `reply`. */
function whenEnded(socket: net.Socket, reply: (received: Buffer) => void): void {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("end", () => reply(Buffer.concat(chunks)));
}

/** Runs socklab with binary stdin and returns stdout as bytes. */
async function runBinary(
  args: readonly string[],
  input: Buffer,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const child = spawn(process.execPath, [SOCKLAB_BIN, ...args], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on("error", () => {});
  child.stdin.end(input);
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout: Buffer.concat(out), stderr };
}

/** A port nobody listens on, on either loopback. */
async function freedPort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
}

describe("socklab tcp-client, the tutorial's client", () => {
  test("fetches the page from the tutorial's Python server (listing 3.2) via localhost", async () => {
    const { python, port } = await startTutorialServer("3.2 web server");
    onTestFinished(() => python.kill());
    const r = await runCli(["tcp-client", "--port", String(port)]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(TUTORIAL_ANSWER);
    expect(r.code).toBe(0);
    expect(await python.exited).toBe(0);
  });

  test("--send with the request line of listing 3.3 gets the same page", async () => {
    const { python, port } = await startTutorialServer("3.2 web server");
    onTestFinished(() => python.kill());
    const r = await runCli([
      "tcp-client",
      "--port",
      String(port),
      "--send",
      "GET / HTTP/1.0\\r\\n",
    ]);
    expect(r.stdout).toBe(TUTORIAL_ANSWER);
    expect(r.code).toBe(0);
  });

  test("sends GET PATH HTTP/1.0 and a blank line, and prints the answer as it is", async () => {
    const requests: string[] = [];
    const port = await listen((socket) => {
      let got = "";
      socket.on("data", (chunk: Buffer) => {
        got += chunk.toString("latin1");
        if (got.endsWith("\r\n\r\n")) {
          requests.push(got);
          socket.end("HTTP/1.0 404 Not Found\r\n\r\nnope\n");
        }
      });
    });
    const r = await runCli(["tcp-client", "-H", "127.0.0.1", "-p", String(port), "--path", "/x"]);
    expect(requests).toEqual(["GET /x HTTP/1.0\r\n\r\n"]);
    expect(r.stdout).toBe("HTTP/1.0 404 Not Found\r\n\r\nnope\n");
    expect(r.code).toBe(0);
  });

  test.runIf(hasIpv6Loopback())("connects to an IPv6 server with --host [::1]", async () => {
    const port = await listen((socket) => socket.end("six\n"), "::1");
    const r = await runCli(["tcp-client", "--host", "[::1]", "--port", String(port)]);
    expect(r.stdout).toBe("six\n");
    expect(r.code).toBe(0);
  });
});

describe("socklab tcp-client --send and --repr", () => {
  test("--send turns escapes into bytes, half-closes and prints the reply", async () => {
    const port = await listen((socket) =>
      whenEnded(socket, (got) => socket.end(`${got.toString("hex")}\n`)),
    );
    const r = await runCli([
      "tcp-client",
      "--port",
      String(port),
      "--send",
      "abc\\r\\n\\t\\x00\\xffü",
    ]);
    expect(r.stdout).toBe("6162630d0a0900ffc3bc\n");
    expect(r.code).toBe(0);
  });

  test("--repr prints received bytes as Python does", async () => {
    const port = await listen((socket) =>
      socket.end(Buffer.from([0x61, 0x62, 0x63, 0x0d, 0x0a, 0xff, 0x09, 0x5c])),
    );
    const r = await runCli(["tcp-client", "--port", String(port), "--repr"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^b'.*'$/);
    // One line per chunk received; together they hold every byte.
    expect(lines.map((l) => l.slice(2, -1)).join("")).toBe("abc\\r\\n\\xff\\t\\\\");
  });

  test("--json reports connected, received (base64) and closed", async () => {
    const port = await listen((socket) => socket.end("hello"));
    const r = await runCli(["tcp-client", "--port", String(port), "--json", "--send", "x"]);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({
      event: "connected",
      remote: expect.stringMatching(new RegExp(`:${port}$`)),
      local: expect.any(String),
    });
    const received = events.filter((e) => e.event === "received");
    expect(received.reduce((n, e) => n + (e.bytes as number), 0)).toBe(5);
    expect(
      Buffer.concat(received.map((e) => Buffer.from(e.data as string, "base64"))).toString(),
    ).toBe("hello");
    expect(events.at(-1)).toMatchObject({ event: "closed", bytesReceived: 5, bytesSent: 1 });
  });
});

describe("socklab tcp-client --stdin, like nc", () => {
  test("half-closes at the end of input and prints the answer that follows", async () => {
    const port = await listen((socket) =>
      whenEnded(socket, (got) => socket.end(`got ${got.length} bytes\n`)),
    );
    const r = await runCli(["tcp-client", "--port", String(port), "--stdin"], "hello");
    expect(r.stdout).toBe("got 5 bytes\n");
    expect(r.code).toBe(0);
  });

  test("ends when the server closes, even while stdin stays open", async () => {
    const port = await listen((socket) => socket.end("bye\n"));
    const cli = startCli(["tcp-client", "--port", String(port), "--stdin"]);
    onTestFinished(async () => {
      await cli.stop("SIGKILL");
    });
    cli.child.stdin.write("still typing");
    const r = await cli.result;
    expect(r.stdout).toBe("bye\n");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("round-trips 2 MiB of binary through socat's echo unchanged", async ({ skip }) => {
    requireTools(skip, "socat");
    const socat = spawn("socat", ["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "EXEC:cat"]);
    onTestFinished(() => {
      socat.kill();
    });
    const lines = createInterface({ input: socat.stderr });
    let port = 0;
    for await (const line of lines) {
      const m = /listening on AF=2 127\.0\.0\.1:(\d+)/.exec(line);
      if (m !== null) {
        port = Number(m[1]);
        break;
      }
    }
    const input = randomBytes(2 * 1024 * 1024);
    const r = await runBinary(
      ["tcp-client", "--host", "127.0.0.1", "--port", String(port), "--stdin"],
      input,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(input.length);
    expect(r.stdout.equals(input)).toBe(true);
  });

  test("talks to nc -l both ways: our stdin reaches nc, nc's stdin reaches our stdout", async ({
    skip,
  }) => {
    requireTools(skip, "nc");
    const dir = await makeTempDir("tcp-client-nc");
    onTestFinished(() => dir.remove());
    const ours = randomBytes(300_000);
    const theirs = randomBytes(200_000);
    await writeFile(`${dir.path}/theirs.bin`, theirs);
    const file = await open(`${dir.path}/theirs.bin`, "r");
    onTestFinished(() => file.close());
    const nc = spawn("nc", ["-lnv", "127.0.0.1", "0"], { stdio: [file.fd, "pipe", "pipe"] });
    const ncStdout = nc.stdout!;
    const ncStderr = nc.stderr!;
    onTestFinished(() => {
      nc.kill();
    });
    const ncOut: Buffer[] = [];
    let ncBytes = 0;
    const ncGotAll = new Promise<void>((resolve) => {
      ncStdout.on("data", (chunk: Buffer) => {
        ncOut.push(chunk);
        ncBytes += chunk.length;
        if (ncBytes >= ours.length) resolve();
      });
    });
    let port = 0;
    for await (const line of createInterface({ input: ncStderr })) {
      const m = /^Listening on 127\.0\.0\.1 (\d+)/.exec(line);
      if (m !== null) {
        port = Number(m[1]);
        break;
      }
    }
    const r = await runBinary(
      ["tcp-client", "--host", "127.0.0.1", "--port", String(port), "--stdin"],
      ours,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.equals(theirs)).toBe(true);
    await ncGotAll;
    expect(Buffer.concat(ncOut).equals(ours)).toBe(true);
  });
});

describe("socklab tcp-client errors: one line, exit code 1 or 2", () => {
  test("a refused port names localhost's addresses", async () => {
    const port = await freedPort();
    const r = await runCli(["tcp-client", "--port", String(port)]);
    expectOneLineError(
      r,
      new RegExp(
        `^socklab tcp-client: Cannot connect to "localhost:${port}": connection refused \\(nobody is listening; tried (::1, )?127\\.0\\.0\\.1\\)\\n$`,
      ),
    );
  });

  test("a name that does not resolve", async () => {
    const r = await runCli(["tcp-client", "--host", "no-such-host.invalid", "--port", "80"]);
    expectOneLineError(
      r,
      /^socklab tcp-client: Cannot connect to "no-such-host\.invalid:80": name (does not resolve|resolution failed)/,
    );
  });

  test("--timeout: a server that accepts and never answers", async () => {
    const port = await listen(() => {});
    const r = await runCli([
      "tcp-client",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--timeout",
      "200ms",
    ]);
    expectOneLineError(
      r,
      new RegExp(
        `^socklab tcp-client: Cannot receive from "127\\.0\\.0\\.1:${port}": no data for 200 ms \\(see --timeout\\)\\n$`,
      ),
    );
  });

  test("a reset after a partial answer: what came is printed, then one line", async () => {
    let accept!: (socket: net.Socket) => void;
    const accepted = new Promise<net.Socket>((resolve) => {
      accept = resolve;
    });
    const port = await listen((socket) => accept(socket));
    const cli = startCli(["tcp-client", "--host", "127.0.0.1", "--port", String(port)]);
    const peer = await accepted;
    // Reset only once the client has printed the bytes, so none can be lost on the way.
    const printed = new Promise<void>((resolve) => {
      let text = "";
      cli.child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text === "partial") resolve();
      });
    });
    peer.write("partial");
    await printed;
    peer.resetAndDestroy();
    const r = await cli.result;
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("partial");
    expect(r.stderr).toBe(
      `socklab tcp-client: Cannot receive from "127.0.0.1:${port}": connection reset by peer\n`,
    );
  });

  test.each([
    [["--send", "x", "--stdin"], /Cannot use --send and --stdin together/],
    [["--path", "/a", "--send", "x"], /Cannot use --path and --send together/],
    [["--port", "0"], /Cannot connect to port 0/],
    [["--path", "/a b"], /Cannot use --path "\/a b"/],
    [["--send", "\\q"], /escape/],
    [["--timeout", "soon"], /Cannot use --timeout "soon"/],
    [["somewhere"], /Cannot use "somewhere": tcp-client takes options only$/m],
    [["8080"], /Cannot use "8080": tcp-client takes options only \(did you mean --port 8080\?\)/],
  ])("usage error for %j: exit code 2", async (args, message) => {
    const r = await runCli(["tcp-client", ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(
      /^socklab tcp-client: .*\nRun "socklab tcp-client --help" for usage\.\n$/,
    );
  });

  test("SIGTERM while waiting for the answer stops cleanly with exit code 0", async () => {
    let accepted!: () => void;
    const connected = new Promise<void>((resolve) => {
      accepted = resolve;
    });
    const port = await listen(() => accepted());
    const cli = startCli(["tcp-client", "--host", "127.0.0.1", "--port", String(port)]);
    await connected;
    const r = await cli.stop("SIGTERM");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });
});
