import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, onTestFinished, test } from "vitest";
import { groupCpuSeconds, isRunning, rssBytes } from "./proc_stats.ts";

describe("proc_stats", () => {
  test("groupCpuSeconds() counts a busy process group, including a forked child", async () => {
    const child = spawn(
      "/bin/sh",
      ["-c", "sh -c 'while :; do :; done' & echo go; while :; do :; done"],
      { detached: true, stdio: ["ignore", "pipe", "ignore"] },
    );
    onTestFinished(() => {
      process.kill(-child.pid!, "SIGKILL");
    });
    await once(child.stdout!, "data");
    const before = groupCpuSeconds(child.pid!);
    await expect
      .poll(() => groupCpuSeconds(child.pid!) - before, { timeout: 5000 })
      .toBeGreaterThan(0.05);
  });

  test("rssBytes() and isRunning() see this process, not a finished one", async () => {
    expect(rssBytes(process.pid)).toBeGreaterThan(1_000_000);
    expect(isRunning(process.pid)).toBe(true);
    const child = spawn("/bin/true");
    await once(child, "exit");
    expect(isRunning(child.pid!)).toBe(false);
    expect(rssBytes(child.pid!)).toBeNaN();
  });
});
