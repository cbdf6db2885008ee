import { describe, expect, test } from "vitest";
import { isRunning } from "./proc_stats.ts";
import { lastError, ProcessRegistry } from "./process_registry.ts";

describe("ProcessRegistry", () => {
  test("stopAll() ends a process and the child it forked", async () => {
    const registry = new ProcessRegistry();
    // The shell prints its background child's pid, then waits: both are in one group.
    const shell = registry.start({
      name: "shell",
      command: "/bin/sh",
      args: ["-c", "trap '' TERM; sleep 60 & echo child $!; wait"],
    });
    const child = Number((await shell.waitForLine(/^child (\d+)$/, 5000))[1]);
    expect(isRunning(child)).toBe(true);
    // The shell ignores SIGTERM, so this also shows the SIGKILL after the grace period.
    await registry.stopAll(200);
    expect(isRunning(shell.pid)).toBe(false);
    await expect.poll(() => isRunning(child)).toBe(false);
    expect(registry.started).toEqual([{ name: "shell", pid: shell.pid }]);
  });

  test("waitForLine() fails with the process's error line when it exits first", async () => {
    const registry = new ProcessRegistry();
    const failing = registry.start({
      name: "failing",
      command: "/bin/sh",
      args: ["-c", "echo 'OSError: [Errno 98] Address already in use' >&2; exit 1"],
    });
    await expect(failing.waitForLine(/^listening/, 5000)).rejects.toThrow(
      "failing exited (code 1) before it was ready: OSError: [Errno 98] Address already in use",
    );
  });

  test("raiseFileLimit starts the program with the hard open-file limit", async () => {
    const registry = new ProcessRegistry();
    const shell = registry.start({
      name: "limits",
      command: "/bin/sh",
      args: ["-c", 'echo "$(ulimit -n) $(ulimit -Hn)"'],
      raiseFileLimit: true,
    });
    const [, soft, hard] = await shell.waitForLine(/^(\S+) (\S+)$/, 5000);
    expect(soft).toBe(hard);
    await registry.stopAll();
  });
});

describe("lastError()", () => {
  test.each([
    [["Traceback (most recent call last):", "  File x", "OSError: boom", ""], "OSError: boom"],
    [
      ["node:internal", "Error: listen EADDRINUSE", "    at x", "", "Node.js v20.20.2"],
      "Error: listen EADDRINUSE",
    ],
    [["just a line", ""], "just a line"],
    [[], ""],
  ])("lastError(%j) is %s", (lines, expected) => {
    expect(lastError(lines)).toBe(expected);
  });
});
