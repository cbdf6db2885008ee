/**
 * The `socklab-bench` command (`npm run bench`): reads the options, runs the
 * scenarios, prints the table on stdout and writes the raw results as JSON.
 * Every process it starts is stopped when it ends, also on Ctrl-C or SIGTERM.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BenchReport, runBench } from "./harness.ts";
import { ProcessRegistry } from "./process_registry.ts";
import { createProgress } from "./progress.ts";
import { formatFigure, resultsTable } from "./results_table.ts";
import { type LoadSettings, SCENARIOS } from "./scenarios.ts";
import { hardFileLimit, hasProgram } from "./tools.ts";

/** The options `socklab-bench` understands, after parsing. */
export interface CliOptions {
  quick: boolean;
  only: string[];
  rounds: number;
  duration: number;
  warmup: number;
  held: number;
  /** `auto`: wrk where installed (a C client that leaves more of the 2 cores to the server), else autocannon. */
  httpLoad: "auto" | "autocannon" | "wrk";
  jsonOut: string;
  /** Measure only the peers (calibration, the bench's own smoke test). */
  peersOnly: boolean;
}

/** A command-line mistake: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

const HELP = `socklab-bench — socklab's servers against the peers a user might pick instead

Usage: socklab-bench [options]        (npm run bench -- [options])

Each server runs as its own process; a separate load process drives the same
load against each, on loopback. Prints one markdown table (median over rounds,
spread, ratio to the reference peer, server CPU time per operation, target)
and writes the raw results as JSON.

Options:
  --quick               Smoke run, under a minute: 1 round, 0.5 s windows, 1,100 held connections
  --only <scenario>     Run only this scenario (repeatable)
  --rounds <n>          Rounds per server (default 3; --quick 1)
  --duration <s>        Seconds per measured window (default 5; --quick 0.5)
  --warmup <s>          Seconds of load before each window (default 1; --quick 0.25)
  --held <n>            Connections for held-conns (default 19,900, capped by the open-file limit)
  --http-load <tool>    wrk or autocannon (default: wrk where installed, else autocannon)
  --peers-only          Measure only the peers, not socklab (calibration)
  --json-out <path>     Raw results (default bench-results/latest.json)
  --list                List the scenarios and exit
  -h, --help            Show this help

Scenarios:
${SCENARIOS.map((s) => `  ${s.id.padEnd(20)}${s.title}`).join("\n")}
`;

function positiveNumber(
  name: string,
  text: string | undefined,
  integer: boolean,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `Invalid --${name} "${text}": expected a positive ${integer ? "whole " : ""}number`,
    );
  }
  return value;
}

/**
 * Parses `socklab-bench`'s arguments.
 *
 * @param argv The arguments after the command.
 * @returns The options, or `"help"` / `"list"`.
 * @throws {UsageError} For unknown options, bad numbers and unknown scenarios.
 * @example
 * ```ts
 * import { parseCli } from "./cli.ts";
 * parseCli(["--quick", "--only", "tcp-echo-rt"]);
 * ```
 */
export function parseCli(argv: readonly string[]): CliOptions | "help" | "list" {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        only: { type: "string", multiple: true },
        rounds: { type: "string" },
        duration: { type: "string" },
        warmup: { type: "string" },
        held: { type: "string" },
        "http-load": { type: "string" },
        "json-out": { type: "string" },
        "peers-only": { type: "boolean" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify .*$/s, ""));
  }
  if (values.help === true) return "help";
  if (values.list === true) return "list";
  const quick = values.quick === true;
  const only = (values.only as string[] | undefined) ?? [];
  for (const id of only) {
    if (!SCENARIOS.some((s) => s.id === id)) {
      throw new UsageError(
        `Unknown scenario "${id}": choose from ${SCENARIOS.map((s) => s.id).join(", ")}`,
      );
    }
  }
  const httpLoad = (values["http-load"] as string | undefined) ?? "auto";
  if (httpLoad !== "auto" && httpLoad !== "autocannon" && httpLoad !== "wrk") {
    throw new UsageError(`Invalid --http-load "${httpLoad}": expected autocannon or wrk`);
  }
  const warmup = values.warmup as string | undefined;
  return {
    quick,
    only,
    rounds: positiveNumber("rounds", values.rounds as string | undefined, true) ?? (quick ? 1 : 3),
    duration:
      positiveNumber("duration", values.duration as string | undefined, false) ?? (quick ? 0.5 : 5),
    warmup: warmup === "0" ? 0 : (positiveNumber("warmup", warmup, false) ?? (quick ? 0.25 : 1)),
    held:
      positiveNumber("held", values.held as string | undefined, true) ?? (quick ? 1100 : 19_900),
    httpLoad,
    jsonOut: (values["json-out"] as string | undefined) ?? "bench-results/latest.json",
    peersOnly: values["peers-only"] === true,
  };
}

/** Streams and the process registry (tests pass their own). */
export interface MainOptions {
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  registry?: ProcessRegistry;
}

/**
 * Runs `socklab-bench`.
 *
 * @param argv The arguments after the command.
 * @param options Streams and registry.
 * @returns The exit code: 0 when every measurement ran (targets met or not), 1 when one failed, 2 on a usage error.
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr.write(`socklab-bench: ${err.message}\nRun "socklab-bench --help" for the options.\n`);
    return 2;
  }
  if (parsed === "help") {
    stdout.write(HELP);
    return 0;
  }
  if (parsed === "list") {
    stdout.write(`${SCENARIOS.map((s) => `${s.id}\t${s.title}`).join("\n")}\n`);
    return 0;
  }
  const cli = parsed;
  const registry = options.registry ?? new ProcessRegistry();
  const progress = createProgress(stderr);
  registry.onStart = (p) => progress.started(p);

  // Ctrl-C / SIGTERM: stop every process this run started, then leave.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      registry.killAllNow();
      process.exit(signal === "SIGINT" ? 130 : 143);
    }
    stopping = true;
    progress.stop();
    stderr.write(`socklab-bench: ${signal}, stopping every process it started\n`);
    void registry.stopAll(1000).then(() => {
      removeTmpDir();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  };
  const tmpDir = mkdtempSync(join(tmpdir(), "socklab-bench-"));
  const removeTmpDir = (): void => rmSync(tmpDir, { recursive: true, force: true });
  const onExit = (): void => {
    registry.killAllNow();
    removeTmpDir();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", onExit);

  try {
    const limit = hardFileLimit();
    const held = Math.min(cli.held, limit - 100);
    if (held < cli.held) {
      progress.note(`held-conns: ${held} connections (the open-file hard limit is ${limit})`);
    }
    let httpLoad: "autocannon" | "wrk" =
      cli.httpLoad === "auto" ? (hasProgram("wrk") ? "wrk" : "autocannon") : cli.httpLoad;
    if (httpLoad === "wrk" && !hasProgram("wrk")) {
      progress.note("wrk is not installed: using autocannon for HTTP");
      httpLoad = "autocannon";
    }
    const settings: Omit<LoadSettings, "tmpDir"> = {
      duration: cli.duration,
      warmup: cli.warmup,
      heldConnections: held,
      httpLoad,
    };
    const scenarios = (
      cli.only.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => cli.only.includes(s.id))
    ).map((s) => (cli.peersOnly ? { ...s, socklab: [] } : s));
    const report = await runBench({
      scenarios,
      rounds: cli.rounds,
      settings,
      tmpDir,
      registry,
      onProgress: (event) => progress.update(event),
      onNote: (text) => progress.note(text),
      formatFigure,
    });
    progress.stop();
    stdout.write(`${caption(report)}\n\n${resultsTable(report)}`);
    const path = resolve(cli.jsonOut);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
    stderr.write(`socklab-bench: ${summary(report)}; raw results in ${cli.jsonOut}\n`);
    const failed = report.scenarios.some((s) => s.programs.some((p) => p.failures.length > 0));
    return failed ? 1 : 0;
  } finally {
    progress.stop();
    await registry.stopAll();
    removeTmpDir();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("exit", onExit);
  }
}

function caption(report: BenchReport): string {
  const { rounds, settings } = report.options;
  const { cpus: count, model, node, loadAverage } = report.machine;
  return (
    `${count} CPUs (${model}) shared by the load client and the server, loopback, Node ${node}; ` +
    `${rounds} round(s) × ${settings.duration} s (${settings.warmup} s warm-up), ` +
    `HTTP load: ${settings.httpLoad}; load average ${loadAverage.start.toFixed(1)} at the start, ` +
    `${loadAverage.end.toFixed(1)} at the end; ${report.startedAt}`
  );
}

function summary(report: BenchReport): string {
  const verdicts = report.scenarios.map((s) => s.verdict.met);
  const met = verdicts.filter((v) => v === true).length;
  const notMet = verdicts.filter((v) => v === false).length;
  const notRun = verdicts.filter((v) => v === undefined).length;
  return `targets met ${met}, not met ${notMet}, socklab not run ${notRun} (of ${verdicts.length} scenarios; ${cpus().length} CPUs)`;
}
