import { execFile } from "node:child_process";
import { once } from "node:events";
import { stat } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  hasCommand,
  makeTempDir,
  requireTools,
  runPython,
  tutorialListing,
} from "@socklab/core/testing";
import { afterEach, describe, expect, test } from "vitest";
import { runCli, startServer } from "../_test_cli.ts";

const run = promisify(execFile);
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function startLab(extra: string[] = []) {
  const dir = await makeTempDir("socklab-lab");
  cleanups.push(dir.remove);
  const paths = { stream: join(dir.path, "tcp.sock"), dgram: join(dir.path, "udp.sock") };
  const lab = await startServer([
    "lab",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--unix-path",
    paths.stream,
    "--unixgram-path",
    paths.dgram,
    "--timeout",
    "0",
    ...extra,
  ]);
  cleanups.push(() => lab.stop("SIGKILL"));
  await lab.waitForLine(/^listening on unixgram:/);
  return { lab, port: Number(/:(\d+)$/.exec(lab.address)![1]), ...paths };
}

describe("socklab lab", () => {
  test("serves the tutorial's four Python clients and curl, then removes its socket files on SIGINT", async ({
    skip,
  }) => {
    requireTools(skip, "curl");
    const { lab, port, stream, dgram } = await startLab();
    // 3.3: the web client gets the page.
    const web = runPython(tutorialListing("3.3 client", { host: "127.0.0.1", port }));
    expect((await web.waitForLine(/^'/)).input).toContain("<h1>Hallo Welt!</h1>");
    // 3.5: eighteen ones over UDP.
    expect(
      await runPython(tutorialListing("3.5 udp client", { host: "127.0.0.1", port })).exited,
    ).toBe(0);
    await lab.waitForLine(/^udp datagram from 127\.0\.0\.1:\d+ \(18 bytes\): 111111111111111111$/);
    // 3.9: "Hallo Welt!" on the UNIX stream socket.
    expect(
      await runPython(tutorialListing("3.9 unix stream client", { path: stream })).exited,
    ).toBe(0);
    await lab.waitForLine(new RegExp(`^connection on ${stream} \\(#\\d+\\)$`));
    // 3.11: "Hallo Welt!" as a UNIX datagram.
    expect(await runPython(tutorialListing("3.11 unix dgram client", { path: dgram })).exited).toBe(
      0,
    );
    await lab.waitForLine(/^unixgram datagram from an unbound sender \(11 bytes\): Hallo Welt!$/);
    // curl, HTTP/1.1.
    const { stdout } = await run("curl", ["-s", `http://127.0.0.1:${port}/`]);
    expect(stdout).toBe(
      "<!doctype html><html><head><title>Antwort</title></head><body><h1>Hallo Welt!</h1></body></html>",
    );
    await lab.waitForLine(/"GET \/ HTTP\/1\.1" 200 \d+ bytes$/);
    const result = await lab.stop("SIGINT");
    expect(result.code).toBe(0);
    await expect(stat(stream)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(stat(dgram)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("echoes raw TCP (telnet) and UDP (nc -u)", async () => {
    const { port } = await startLab();
    const socket = connect(port, "127.0.0.1");
    socket.write("abc\r\n");
    expect(String((await once(socket, "data"))[0])).toBe("abc\r\n");
    socket.destroy();
    if (hasCommand("nc")) {
      const { stdout } = await run("sh", ["-c", `printf 'postcard' | nc -u -w1 127.0.0.1 ${port}`]);
      expect(stdout).toBe("postcard");
    }
  });

  test("prints the time and a stats line on each idle tick", async () => {
    const { lab } = await startLab(["--timeout", "0.1"]);
    const match = await lab.waitForLine(/^\d{10} {2}tcp \d+ open\/\d+ total/);
    expect(match.input).toMatch(/\| udp .* \| unix .* \| unixgram /);
  });

  test("an occupied port is one line and exit 1", async () => {
    const { port } = await startLab();
    const dir = await makeTempDir("socklab-lab2");
    cleanups.push(dir.remove);
    const second = await runCli([
      "lab",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--unix-path",
      join(dir.path, "a"),
      "--unixgram-path",
      join(dir.path, "b"),
    ]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      /^socklab lab: Cannot bind "127\.0\.0\.1:\d+": address already in use\n$/,
    );
  });
});
