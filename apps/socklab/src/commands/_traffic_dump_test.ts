import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import * as net from "node:net";
import { join } from "node:path";
import { makeTempDir, requireTools } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { runCli, startServer } from "../_test_cli.ts";
import { COMMANDS, loadCommand } from "../cli.ts";

/** What `xxd` prints for these bytes. */
function xxd(bytes: Buffer): string {
  return execFileSync("xxd", [], { input: bytes }).toString();
}

/** The dump sections on stderr: each header line with the xxd lines under it. */
function sections(stderr: string): { header: string; body: string }[] {
  const found: { header: string; body: string }[] = [];
  for (const line of stderr.split("\n")) {
    if (/^[<>] \d+ bytes? (to|from) /.test(line)) found.push({ header: line, body: "" });
    else if (/^[0-9a-f]{8}: /.test(line)) found.at(-1)!.body += `${line}\n`;
  }
  return found;
}

/** Resolves once a process has written `text` to stderr. */
async function stderrContains(child: ChildProcessWithoutNullStreams, text: string): Promise<void> {
  let seen = "";
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("latin1");
      if (seen.includes(text)) {
        child.stderr.off("data", onData);
        resolve();
      }
    };
    child.stderr.on("data", onData);
  });
}

/** Bytes that show every column of a dump: text, control bytes, high bytes, a short last line. */
const PAYLOAD = Buffer.concat([
  Buffer.from("Hallo Welt!\r\n\t"),
  Buffer.from([0, 1, 0x7f, 0x80, 0xfe, 0xff]),
  Buffer.from("the end"),
]);

const TUTORIAL_COMMANDS = [
  "tcp-server",
  "tcp-client",
  "udp-server",
  "udp-client",
  "unix-stream-server",
  "unix-stream-client",
  "unix-dgram-server",
  "unix-dgram-client",
  "multiplex",
];

describe("-x/--hexdump", () => {
  test.each(TUTORIAL_COMMANDS)("%s has -x/--hexdump", async (name) => {
    const command = await loadCommand(COMMANDS.find((c) => c.name === name)!);
    expect(command.options.hexdump).toMatchObject({ type: "boolean", short: "x" });
  });

  test("tcp-client: each chunk both ways, as xxd shows it", async ({ skip }) => {
    requireTools(skip, "xxd");
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end(PAYLOAD));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    onTestFinished(() => void server.close());
    const port = (server.address() as net.AddressInfo).port;
    const request = Buffer.from("GET / HTTP/1.0\r\n\r\n");
    const r = await runCli(["tcp-client", "-H", "127.0.0.1", "-p", String(port), "-x"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(PAYLOAD.toString("latin1").replace(/[\x80-\xff]/g, "\ufffd"));
    expect(sections(r.stderr)).toEqual([
      { header: `> ${request.length} bytes to tcp://127.0.0.1:${port}`, body: xxd(request) },
      { header: `< ${PAYLOAD.length} bytes from tcp://127.0.0.1:${port}`, body: xxd(PAYLOAD) },
    ]);
  });

  test("udp-client and udp-server --echo: each datagram both ways, as xxd shows it", async ({
    skip,
  }) => {
    requireTools(skip, "xxd");
    const server = await startServer([
      "udp-server",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--echo",
      "-x",
      "-q",
    ]);
    onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
    const port = /:(\d+)$/.exec(server.address)![1]!;
    const message = PAYLOAD.toString("latin1").replace(
      /[^\x20-\x7e]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
    );
    const r = await runCli([
      "udp-client",
      "-H",
      "127.0.0.1",
      "-p",
      port,
      "-m",
      message,
      "-n",
      "2",
      "-w",
      "2",
      "-x",
      "-q",
    ]);
    expect(r.code).toBe(0);
    const to = `udp://127.0.0.1:${port}`;
    expect(sections(r.stderr)).toEqual([
      { header: `> ${PAYLOAD.length} bytes to ${to}`, body: xxd(PAYLOAD) },
      { header: `< ${PAYLOAD.length} bytes from ${to}`, body: xxd(PAYLOAD) },
      { header: `> ${PAYLOAD.length} bytes to ${to}`, body: xxd(PAYLOAD) },
      { header: `< ${PAYLOAD.length} bytes from ${to}`, body: xxd(PAYLOAD) },
    ]);
    const stopped = await server.stop();
    const dumps = sections(stopped.stderr);
    expect(dumps).toHaveLength(4);
    for (const d of dumps) expect(d.body).toBe(xxd(PAYLOAD));
    expect(dumps[0]!.header).toMatch(/^< 27 bytes from udp:\/\/127\.0\.0\.1:\d+$/);
    expect(dumps[1]!.header).toMatch(/^> 27 bytes to udp:\/\/127\.0\.0\.1:\d+$/);
  });

  test("unix-dgram-server: a datagram from Python's socket, as xxd shows it", async ({ skip }) => {
    requireTools(skip, "xxd");
    const dir = await makeTempDir("socklab-hexdump");
    onTestFinished(() => dir.remove());
    const path = join(dir.path, "s");
    const server = await startServer(["unix-dgram-server", "--path", path, "-x", "-q"]);
    onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
    execFileSync(
      "python3",
      [
        "-c",
        "import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(sys.stdin.buffer.read(), sys.argv[1])",
        path,
      ],
      { input: PAYLOAD },
    );
    await stderrContains(server.child, "the end");
    const stopped = await server.stop();
    expect(sections(stopped.stderr)).toEqual([
      { header: `< ${PAYLOAD.length} bytes from an unbound socket`, body: xxd(PAYLOAD) },
    ]);
  });

  test("tcp-server: the HTTP request and answer bytes", async ({ skip }) => {
    requireTools(skip, "xxd");
    const server = await startServer([
      "tcp-server",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "-x",
      "-q",
      "--once",
    ]);
    onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
    const port = /:(\d+)$/.exec(server.address)![1]!;
    const request = Buffer.from("GET / HTTP/1.0\r\n\r\n");
    const socket = net.connect(Number(port), "127.0.0.1");
    socket.end(request);
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    await once(socket, "close");
    const answer = Buffer.concat(chunks);
    const done = await server.result;
    expect(done.code).toBe(0);
    const dumps = sections(done.stderr);
    expect(dumps.map((d) => d.header.replace(/:\d+$/, ":PORT"))).toEqual([
      `< ${request.length} bytes from tcp://127.0.0.1:PORT`,
      `> ${answer.length} bytes to tcp://127.0.0.1:PORT`,
    ]);
    expect(dumps[0]!.body).toBe(xxd(request));
    expect(dumps[1]!.body).toBe(xxd(answer));
  });

  test("multiplex: echoed bytes per connection, offsets continuing", async ({ skip }) => {
    requireTools(skip, "xxd");
    const server = await startServer([
      "multiplex",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "-x",
      "-q",
      "--timeout",
      "0",
    ]);
    onTestFinished(() => server.stop("SIGKILL").then(() => undefined));
    const port = /:(\d+)$/.exec(server.address)![1]!;
    const socket = net.connect(Number(port), "127.0.0.1");
    socket.write(PAYLOAD);
    await once(socket, "data");
    socket.end();
    socket.resume();
    await once(socket, "close");
    const stopped = await server.stop();
    const dumps = sections(stopped.stderr);
    expect(dumps.map((d) => d.header.replace(/:\d+ #/, ":PORT #"))).toEqual([
      `< ${PAYLOAD.length} bytes from tcp://127.0.0.1:PORT #1`,
      `> ${PAYLOAD.length} bytes to tcp://127.0.0.1:PORT #1`,
    ]);
    for (const d of dumps) expect(d.body).toBe(xxd(PAYLOAD));
  });
});
