import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { hasIpv6Loopback } from "@socklab/core";
import {
  requireTools,
  runPython,
  startTutorialServer,
  tutorialListing,
} from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { openSocket } from "./_test_udp.ts";

const ONES = "1".repeat(18);

/** Starts a program that is killed when the test ends. */
function spawnTool(command: string, args: readonly string[]): ChildProcessWithoutNullStreams {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "close");
    }
  });
  return child;
}

describe("@socklab/udp with the tutorial's Python programs", () => {
  test('a client connected to "localhost" reaches listing 3.4, which binds 127.0.0.1 only', async () => {
    const { python, port } = await startTutorialServer("3.4 udp server");
    onTestFinished(() => python.kill());
    const client = await openSocket({ connect: `localhost:${port}` });
    await client.send(ONES);
    const [line] = await python.waitForLine(/^Daten .*$/);
    expect(line).toBe(`Daten ${ONES} von 127.0.0.1 ${client.port}`);
    expect(await python.exited).toBe(0);
  });

  test("a server on localhost gets listing 3.5's eighteen 1s with the Python sender's port", async () => {
    const server = await openSocket({ host: "localhost" });
    // Listing 3.5 as printed, plus one line that tells the test which port Python sent from.
    const source = tutorialListing("3.5 udp client", { port: server.port }).replace(
      "s.close()",
      "print('socklab-port', s.getsockname()[1], flush=True)\ns.close()",
    );
    const python = runPython(source);
    onTestFinished(() => python.kill());
    const datagram = (await server.receive({ timeoutMs: 10_000 }))!;
    const [, pythonPort] = await python.waitForLine(/^socklab-port (\d+)$/);
    expect(datagram.data.toString("ascii")).toBe(ONES);
    expect(datagram.from).toEqual({ host: "127.0.0.1", port: Number(pythonPort), family: 4 });
    expect(await python.exited).toBe(0);
  });
});

describe("@socklab/udp with socat and nc", () => {
  test("a datagram from socat arrives byte for byte", async ({ skip }) => {
    requireTools(skip, "socat");
    const server = await openSocket({ host: "127.0.0.1" });
    const socat = spawnTool("socat", ["-u", "-", `UDP4-SENDTO:127.0.0.1:${server.port}`]);
    socat.stdin.end("hello from socat\n");
    const datagram = (await server.receive({ timeoutMs: 10_000 }))!;
    expect(datagram.data.toString()).toBe("hello from socat\n");
    expect(datagram.from.host).toBe("127.0.0.1");
  });

  test("nc -u -l on ::1 gets what a client sends over IPv6", async ({ skip }) => {
    requireTools(skip, "nc");
    skip(!hasIpv6Loopback(), "needs the IPv6 loopback ::1");
    const nc = spawnTool("nc", ["-n", "-v", "-u", "-l", "::1", "0"]);
    const [bound] = (await once(createInterface({ input: nc.stderr }), "line")) as [string];
    const port = Number(/^Bound on ::1 (\d+)$/.exec(bound)?.[1]);
    expect(port).toBeGreaterThan(0);
    const client = await openSocket({ connect: `[::1]:${port}` });
    let received = "";
    const gotAll = new Promise<void>((resolve) => {
      nc.stdout.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if (received === "hello nc\n") resolve();
      });
    });
    await client.send("hello nc\n");
    await gotAll;
    expect(received).toBe("hello nc\n");
  });
});
