import { requireTools, testDir } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { startServer } from "../_test_cli.ts";
import { startProcess, startSocklab } from "./_test_peers.ts";

/** Starts `socklab relay args…` and waits for its ready line (stdout); port 0 for UNIX sockets. */
async function startRelay(args: readonly string[]) {
  const relay = await startServer(["relay", ...args]);
  onTestFinished(async () => {
    await relay.stop("SIGKILL");
  });
  return Object.assign(relay, { port: Number(/:(\d+)$/.exec(relay.address)?.[1] ?? 0) });
}

describe("socklab relay --exec and --sh-exec", () => {
  test("--sh-exec gives each nc client its own shell pipeline, pid and exit on its line", async ({
    skip,
  }) => {
    requireTools(skip, "nc");
    const relay = await startRelay([
      "tcp://127.0.0.1:0",
      "--sh-exec",
      "tr a-z A-Z; echo done; exit 4",
    ]);
    for (const [id, text] of [
      [1, "hello\n"],
      [2, "again\n"],
    ] as const) {
      const nc = startProcess("nc", ["-N", "127.0.0.1", String(relay.port)]);
      nc.child.stdin!.end(text);
      expect(await nc.exited).toBe(0);
      expect(nc.stdout().toString()).toBe(`${text.toUpperCase()}done\n`);
      const line = await relay.waitForLine(new RegExp(`^closed ${id} `));
      expect(line.input).toMatch(
        /: 6 bytes to sh-exec:tr a-z A-Z; echo done; exit 4, 11 back; pid \d+ exited with 4$/,
      );
    }
    expect(relay.lines).toContainEqual(
      expect.stringMatching(/^connection 1 from tcp:\/\/127\.0\.0\.1:\d+ to sh-exec:.*: pid \d+$/),
    );
    expect((await relay.stop()).code).toBe(0);
  });

  test("--exec on a UNIX socket with socat as the client: argv without a shell", async ({
    skip,
  }) => {
    requireTools(skip, "socat");
    const dir = await testDir("relay-exec");
    const relay = await startRelay([`unix://${dir}/s`, "--exec", `printf '%s|' "a b" $HOME`]);
    const socat = startProcess("socat", ["-t", "5", "-", `UNIX-CONNECT:${dir}/s`]);
    socat.child.stdin!.end();
    expect(await socat.exited).toBe(0);
    expect(socat.stdout().toString()).toBe("a b|$HOME|");
    expect((await relay.stop()).code).toBe(0);
  });

  test.each([
    [["--exec", "cat"], "Cannot use --exec without an address to listen on"],
    [
      ["tcp://127.0.0.1:0", "tcp://127.0.0.1:1", "--exec", "cat"],
      'Cannot use "tcp://127.0.0.1:1" with --exec',
    ],
    [
      ["udp://127.0.0.1:0", "--sh-exec", "cat"],
      'Cannot use --sh-exec on "udp://127.0.0.1:0": it is a datagram address',
    ],
    [
      ["tcp://127.0.0.1:0", "--exec", 'echo "a'],
      'Cannot run "echo "a": a double quote is not closed',
    ],
  ])("relay %j is a usage error: %s", async (args, message) => {
    const cli = startSocklab(["relay", ...args]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr().split("\n")[0]).toContain(`socklab relay: ${message}`);
  });
});
