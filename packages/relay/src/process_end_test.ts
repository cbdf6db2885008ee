import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { describe, expect, test } from "vitest";
import { collect, socketPair } from "./_test_pairs.ts";
import { copyToProcess, describeExit, spawnProcessEnd } from "./process_end.ts";
import { connectionEnd } from "./stream_ends.ts";

/** Whether a process id is still running. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("copyToProcess()", () => {
  test("copyToProcess() with cat echoes 2 MB and passes each half-close on", async () => {
    const { ours, theirs } = await socketPair();
    const run = await copyToProcess(connectionEnd(ours, "client"), ["cat"]);
    const payload = randomBytes(2_000_000);
    const got = collect(theirs);
    theirs.end(payload);
    expect((await got).equals(payload)).toBe(true);
    const { counts, exit, error } = await run.done;
    expect({ counts, exit, error }).toEqual({
      counts: { aToB: 2_000_000, bToA: 2_000_000 },
      exit: { code: 0, signal: null },
      error: undefined,
    });
  });

  test("copyToProcess() with a program that exits early closes the client with its bytes and its exit code", async () => {
    const { ours, theirs } = await socketPair();
    const run = await copyToProcess(connectionEnd(ours, "client"), [
      "sh",
      "-c",
      "head -c 10; echo; exit 3",
    ]);
    const got = collect(theirs);
    // The client keeps sending after the program stopped reading: discarded, no failure.
    theirs.write(Buffer.alloc(100_000, "a"));
    expect((await got).toString()).toBe(`${"a".repeat(10)}\n`);
    theirs.end();
    const { exit, error, counts } = await run.done;
    expect(exit).toEqual({ code: 3, signal: null });
    expect(describeExit(exit)).toBe("exited with 3");
    expect(error).toBeUndefined();
    expect(counts.bToA).toBe(11);
  });

  test("copyToProcess() kills the program when the client goes away", async () => {
    const { ours, theirs } = await socketPair();
    const run = await copyToProcess(connectionEnd(ours, "client"), ["sleep", "1000"]);
    expect(alive(run.process.pid)).toBe(true);
    theirs.resetAndDestroy();
    const { exit, error } = await run.done;
    expect(exit).toEqual({ code: null, signal: "SIGTERM" });
    expect(error).toBeInstanceOf(Error);
    expect(alive(run.process.pid)).toBe(false);
  });

  test("copyToProcess() after stop() kills a program that ignores SIGTERM with SIGKILL", async () => {
    const { ours } = await socketPair();
    const run = await copyToProcess(
      connectionEnd(ours, "client"),
      ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"],
      { killGraceMs: 100 },
    );
    await once(run.process.chunks as NodeJS.ReadableStream, "readable");
    run.copy.stop();
    expect((await run.done).exit).toEqual({ code: null, signal: "SIGKILL" });
  });
});

describe("spawnProcessEnd()", () => {
  test("spawnProcessEnd() of a missing program rejects with one line", async () => {
    await expect(spawnProcessEnd(["socklab-no-such-program"])).rejects.toThrow(
      'Cannot run "socklab-no-such-program": no such program',
    );
  });
});
