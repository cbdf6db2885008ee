import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { makeTempDir } from "@socklab/core/testing";
import { describe, expect, onTestFinished, test } from "vitest";
import { parseCli, UsageError } from "./cli.ts";
import type { BenchReport } from "./harness.ts";
import { isRunning } from "./proc_stats.ts";
import { PROGRAMS } from "./programs.ts";

const BIN = fileURLToPath(new URL("../bin/socklab-bench.js", import.meta.url));

describe("parseCli()", () => {
  test("parseCli() defaults to 3 rounds of 5 s and every scenario", () => {
    expect(parseCli([])).toEqual({
      quick: false,
      only: [],
      rounds: 3,
      duration: 5,
      warmup: 1,
      held: 19_900,
      httpLoad: "auto",
      jsonOut: "bench-results/latest.json",
      peersOnly: false,
    });
  });

  test("parseCli() --quick shortens everything, explicit values still win", () => {
    expect(
      parseCli(["--quick", "--duration", "1", "--only", "udp-echo", "--only", "held-conns"]),
    ).toMatchObject({
      quick: true,
      rounds: 1,
      duration: 1,
      warmup: 0.25,
      held: 1100,
      only: ["udp-echo", "held-conns"],
    });
  });

  test.each([
    [["--only", "nope"], /Unknown scenario "nope": choose from http-keep-alive, /],
    [["--rounds", "0"], /Invalid --rounds "0"/],
    [["--rounds", "1.5"], /expected a positive whole number/],
    [["--duration", "abc"], /Invalid --duration "abc"/],
    [["--http-load", "ab"], /Invalid --http-load "ab"/],
    [["--bogus"], /Unknown option '--bogus'/],
  ])("parseCli(%j) is a usage error", (argv, message) => {
    expect(() => parseCli(argv)).toThrow(UsageError);
    expect(() => parseCli(argv)).toThrow(message);
  });
});

/** Runs socklab-bench as a real process; lines of stderr as they come. */
function runBench(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const stderr: string[] = [];
  const lines = createInterface({ input: child.stderr });
  lines.on("line", (line) => stderr.push(line));
  const exited = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>;
  const startedPids = (): number[] =>
    stderr.flatMap((line) => {
      const match = /started \S+ \(pid (\d+)\)/.exec(line);
      return match === null ? [] : [Number(match[1])];
    });
  return { child, stdout: () => stdout, stderr, lines, exited, startedPids };
}

describe("socklab-bench", () => {
  test("--help lists the options and scenarios", async () => {
    const bench = runBench(["--help"]);
    const [code] = await bench.exited;
    expect(code).toBe(0);
    expect(bench.stdout()).toContain("--quick");
    expect(bench.stdout()).toContain("tcp-echo-rt");
  });

  test("a bad option exits with 2 and one line", async () => {
    const bench = runBench(["--rounds", "x"]);
    const [code] = await bench.exited;
    expect(code).toBe(2);
    expect(bench.stderr[0]).toBe(
      'socklab-bench: Invalid --rounds "x": expected a positive whole number',
    );
  });

  test("--quick --only unix-echo-rt prints the table, writes the JSON and leaves no process behind", async () => {
    const dir = await makeTempDir();
    onTestFinished(dir.remove);
    const json = join(dir.path, "out", "latest.json");
    const bench = runBench([
      ...["--quick", "--peers-only", "--only", "unix-echo-rt", "--duration", "0.3"],
      ...["--json-out", json],
    ]);
    const [code] = await bench.exited;
    expect(bench.stderr.join("\n")).not.toMatch(/failed/);
    expect(code).toBe(0);
    const table = bench.stdout();
    expect(table).toMatch(/^\| scenario +\| program +\|/m);
    expect(table).toMatch(
      /^\| UNIX stream echo, 100 conns × 64-byte round trips \| bare Node net \(pipe\) +\| +[\d.]+k rt\/s \|/m,
    );
    expect(table).toContain(`| ${PROGRAMS["python-selectors-unix"].label} `);
    const report = JSON.parse(await readFile(json, "utf8")) as BenchReport;
    expect(report.scenarios.map((s) => s.id)).toEqual(["unix-echo-rt"]);
    const reference = report.scenarios[0]!.programs.find((p) => p.program === "node-net-unix")!;
    expect(reference.measurements[0]!.result.errors).toBe(0);
    expect(reference.measurements[0]!.figure).toBeGreaterThan(0);
    // Two servers, and the load agent that drove both.
    expect(report.processes.map((p) => p.name).sort()).toEqual([
      "load:agent",
      "node-net-unix",
      "python-selectors-unix",
    ]);
    for (const { pid } of report.processes) expect(isRunning(pid)).toBe(false);
  }, 60_000);

  test("SIGINT stops the server and load client it started and exits with 130", async () => {
    const bench = runBench([
      ...["--peers-only", "--only", "unix-echo-rt", "--rounds", "1", "--duration", "30"],
      ...["--json-out", "/dev/null"],
    ]);
    // Wait until a server and its load client run and the measured window is open.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (bench.stderr.some((line) => line.endsWith(": measuring"))) {
          bench.lines.off("line", check);
          resolve();
        }
      };
      bench.lines.on("line", check);
      check();
    });
    const pids = bench.startedPids();
    expect(pids.length).toBeGreaterThanOrEqual(2);
    bench.child.kill("SIGINT");
    const [code] = await bench.exited;
    expect(code).toBe(130);
    expect(bench.stderr).toContain("socklab-bench: SIGINT, stopping every process it started");
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  }, 60_000);
});
