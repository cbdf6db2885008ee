import { once } from "node:events";
import { stat } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { makeTempDir, runPython, tutorialListing } from "@socklab/core/testing";
import { afterEach, describe, expect, test } from "vitest";
import { type CliProcess, runCli, startServer } from "../_test_cli.ts";

const running: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
});

async function start(args: string[]) {
  const server = await startServer(["multiplex", "--host", "127.0.0.1", "--port", "0", ...args]);
  running.push(server);
  return { server, port: Number(/:(\d+)$/.exec(server.address)![1]) };
}

describe("socklab multiplex", () => {
  test("logs connections and closes, echoes, and stops on SIGTERM with exit 0", async () => {
    const { server, port } = await start(["--timeout", "0"]);
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    await server.waitForLine(
      new RegExp(`^connection from 127\\.0\\.0\\.1:${socket.localPort} \\(#1\\)$`),
    );
    socket.write("abc\r\n");
    const [echoed] = await once(socket, "data");
    expect(String(echoed)).toBe("abc\r\n");
    socket.end();
    await server.waitForLine(/^closed #1 127\.0\.0\.1:\d+: closed by peer \(5 bytes in, 5 out\)$/);
    const result = await server.stop("SIGTERM");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
  });

  test("prints the Unix time when nothing happens for --timeout", async () => {
    const { server } = await start(["--timeout", "0.1"]);
    const [line] = await server.waitForLine(/^\d{10}$/);
    expect(Math.abs(Number(line) - Date.now() / 1000)).toBeLessThan(5);
  });

  test("the tutorial's Python client gets its request echoed", async () => {
    const { port } = await start(["--timeout", "0"]);
    const py = runPython(tutorialListing("3.3 client", { host: "127.0.0.1", port }));
    expect((await py.waitForLine(/^'.*'$/))[0]).toBe("'GET / HTTP/1.0\\r\\n'");
    await py.kill();
  });

  test("--max-connections refuses with a clear line and keeps serving", async () => {
    const { server, port } = await start(["--timeout", "0", "--max-connections", "1"]);
    const first = connect(port, "127.0.0.1");
    first.write("1");
    await once(first, "data");
    const second = connect(port, "127.0.0.1");
    let refusal = "";
    for await (const chunk of second) refusal += chunk;
    expect(refusal).toBe("Server busy: too many connections (limit 1), try again later\n");
    await server.waitForLine(/^refused tcp 127\.0\.0\.1:\d+: connection limit reached$/);
    first.write("2");
    expect(String((await once(first, "data"))[0])).toBe("2");
    first.destroy();
  });

  test("--chat with --broker is a usage error, exit 2", async () => {
    const result = await runCli(["multiplex", "--chat", "--broker", "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^socklab multiplex: Cannot use --chat with --broker: pick one \(--chat relays named lines, --broker raw bytes\)\n/,
    );
    expect(result.stdout).toBe("");
  });

  test("--chat relays lines between clients", async () => {
    const { server, port } = await start(["--timeout", "0", "--chat"]);
    const a = connect(port, "127.0.0.1");
    await server.waitForLine(/\(#1\)$/);
    const b = connect(port, "127.0.0.1");
    await once(a, "data"); // "<server> user2 joined"
    a.write("hallo\n");
    expect(String((await once(b, "data"))[0])).toBe("<user1> hallo\n");
    a.destroy();
    b.destroy();
  });

  test("--path serves a UNIX stream socket on the same loop and removes it on SIGTERM", async () => {
    const dir = await makeTempDir("socklab-mux-cmd");
    const path = join(dir.path, "s");
    try {
      const { server } = await start(["--timeout", "0", "--path", path]);
      await server.waitForLine(new RegExp(`^listening on unix://${path}$`));
      const socket = connect(path);
      socket.write("über");
      expect(String((await once(socket, "data"))[0])).toBe("über");
      socket.destroy();
      expect((await server.stop("SIGTERM")).code).toBe(0);
      await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    } finally {
      await dir.remove();
    }
  });

  test("--json prints one event per line", async () => {
    const { server, port } = await start(["--timeout", "0", "--json"]);
    const socket = connect(port, "127.0.0.1");
    const match = await server.waitForLine(/"event":"connection"/);
    expect(JSON.parse(match.input)).toMatchObject({ event: "connection", transport: "tcp", id: 1 });
    socket.destroy();
  });
});
