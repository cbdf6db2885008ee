/**
 * The bench harness: for each scenario and round, starts each server as a
 * real process, drives the scenario's load against it from a separate load
 * process, samples the server's CPU time (and memory) over the measured
 * window, and stops both before the next.
 *
 * @module
 */
import { rm } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadResult } from "./load/_report.ts";
import { groupCpuSeconds, rssBytes } from "./proc_stats.ts";
import {
  describeExit,
  lastError,
  type ManagedProcess,
  type ProcessRegistry,
} from "./process_registry.ts";
import { PROGRAMS, type Program, type ProgramId, SOCKLAB_BIN } from "./programs.ts";
import type { LoadSettings, LoadSpec, Scenario } from "./scenarios.ts";
import { type Summary, summarize } from "./statistics.ts";
import { hasProgram } from "./tools.ts";

/** One measurement: one server, one round. */
export interface Measurement {
  round: number;
  /** The scenario's figure (req/s, MB/s, …). */
  figure: number;
  /** Server CPU time (user+sys of its process group) over the window, in seconds. */
  serverCpuSeconds: number;
  /** Server CPU seconds per operation (per MB for streams). */
  cpuPerOperation: number;
  /** Load client CPU over the window as a share of one core (NaN when unknown). */
  clientCpuShare: number;
  /** Held connections: growth of the server's resident memory per connection held. */
  bytesPerConnection?: number;
  /** Set when the server ended during the measurement. */
  serverExited?: string;
  /** What the load client reported. */
  result: LoadResult;
}

/** One server in one scenario over all rounds. */
export interface ProgramReport {
  program: ProgramId;
  label: string;
  socklab: boolean;
  /** Why it did not run (tool not installed, socklab command not there yet). */
  skipped?: string;
  measurements: Measurement[];
  /** Rounds that failed, with the reason. */
  failures: string[];
  figure: Summary;
  /** Median server CPU seconds per operation. */
  cpuPerOperation: number;
  /** Median figure divided by the reference peer's. */
  ratio: number;
}

/** socklab's result against the scenario's target. */
export interface Verdict {
  /** True met, false not met, undefined when socklab did not run. */
  met: boolean | undefined;
  /** Why, in a few words. */
  reason: string;
}

/** One scenario's results. */
export interface ScenarioReport {
  id: string;
  title: string;
  unit: string;
  operation: string;
  reference: ProgramId;
  target: string;
  programs: ProgramReport[];
  verdict: Verdict;
}

/** Everything one bench run measured (written as JSON). */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    model: string;
    /** 1-minute load average when the run started and when it ended: other work on the machine. */
    loadAverage: { start: number; end: number };
    node: string;
    platform: string;
  };
  options: { rounds: number; settings: Omit<LoadSettings, "tmpDir">; scenarios: string[] };
  scenarios: ScenarioReport[];
  /** Every process the run started (all stopped when it ends). */
  processes: { name: string; pid: number }[];
}

/** Progress of a run, for the progress bar or lines. */
export interface ProgressEvent {
  /** Measurements finished so far and in all. */
  done: number;
  total: number;
  scenario: string;
  program: ProgramId;
  round: number;
  /** `start` before a measurement, `measuring` when its window opens, `done` after it. */
  phase: "start" | "measuring" | "done";
  /** After a measurement: the figure or the failure. */
  text?: string;
}

/** What {@linkcode runBench} needs. */
export interface BenchOptions {
  scenarios: readonly Scenario[];
  rounds: number;
  settings: Omit<LoadSettings, "tmpDir">;
  /** An empty scratch dir for socket paths (the caller removes it). */
  tmpDir: string;
  /** Where processes are registered (the CLI stops them all on Ctrl-C). */
  registry: ProcessRegistry;
  onProgress?: (event: ProgressEvent) => void;
  /** One line about something skipped or failed. */
  onNote?: (text: string) => void;
  /** Formats a figure for progress text. */
  formatFigure?: (value: number, unit: string) => string;
}

/** A program by id, with the optional fields typed. */
function program(id: ProgramId): Program {
  return PROGRAMS[id];
}

const LOAD_MAIN = fileURLToPath(new URL("./load/main.ts", import.meta.url));
const REGISTER = import.meta.resolve("socklab/bin/_register.js");

/**
 * Whether a socklab subcommand exists: `socklab <command> --help` exits with 0.
 *
 * @param command The subcommand (`multiplex`).
 * @param registry Where the probe process is registered.
 * @returns True when it exists.
 */
async function probeSocklab(command: string, registry: ProcessRegistry): Promise<boolean> {
  const probe = registry.start({
    name: `probe:${command}`,
    command: process.execPath,
    args: [SOCKLAB_BIN, command, "--help"],
  });
  const exit = await probe.exited;
  return exit.code === 0;
}

/**
 * Why a program cannot run here, if it cannot.
 *
 * @param id The program.
 * @param socklabCommands Which socklab subcommands exist.
 * @returns The reason, or undefined when it can run.
 */
function missing(id: ProgramId, socklabCommands: Map<string, boolean>): string | undefined {
  const { requires } = program(id);
  for (const program of requires.programs ?? []) {
    if (!hasProgram(program)) return `${program} is not installed`;
  }
  if (requires.socklab !== undefined && socklabCommands.get(requires.socklab) !== true) {
    return `socklab ${requires.socklab} does not exist yet`;
  }
  return undefined;
}

function emptyReport(id: ProgramId, skipped?: string): ProgramReport {
  return {
    program: id,
    label: PROGRAMS[id].label,
    socklab: PROGRAMS[id].socklab,
    ...(skipped === undefined ? {} : { skipped }),
    measurements: [],
    failures: [],
    figure: summarize([]),
    cpuPerOperation: Number.NaN,
    ratio: Number.NaN,
  };
}

/**
 * The load-client processes. Node load clients run in one agent process that
 * takes one task after another on stdin (so no measurement pays for starting
 * Node and compiling TypeScript); a scenario's Python client is started fresh
 * each time. A client that failed or overran its time is stopped, and the next
 * task gets a new one.
 */
class LoadClients {
  readonly #registry: ProcessRegistry;
  #agent: ManagedProcess | undefined;

  constructor(registry: ProcessRegistry) {
    this.#registry = registry;
  }

  /**
   * A load client for a task, waiting for it on stdin.
   *
   * @param spec The task (a Python one gets its own process).
   * @returns The process and whether it stays for later tasks.
   */
  get(spec: LoadSpec): { process: ManagedProcess; shared: boolean } {
    if (spec.python !== undefined) {
      const python = this.#registry.start({
        name: `load:${spec.kind}`,
        command: "python3",
        args: ["-u", spec.python],
        raiseFileLimit: true,
        stdin: true,
      });
      return { process: python, shared: false };
    }
    return { process: this.agent(), shared: true };
  }

  /**
   * The Node load agent, started now if it is not running (the harness starts it
   * early, so it loads while the first server starts).
   *
   * @returns The agent process.
   */
  agent(): ManagedProcess {
    if (this.#agent === undefined || !this.#agent.running) {
      this.#agent = this.#registry.start({
        name: "load:agent",
        command: process.execPath,
        args: ["--import", REGISTER, LOAD_MAIN],
        raiseFileLimit: true,
        stdin: true,
      });
    }
    return this.#agent;
  }
}

/**
 * Gives the load client its task and samples the server while it runs: CPU
 * time at `start` and `end`, memory at `held`.
 *
 * @returns The load result, server CPU seconds over the window, memory growth; throws with the reason when there is no result.
 */
async function drive(
  load: ManagedProcess,
  server: ManagedProcess,
  spec: LoadSpec,
  timeLimitMs: number,
  onWindow: () => void,
): Promise<{ result: LoadResult; cpu: number; rssGrowth: number; serverExited?: string }> {
  const baseline = rssBytes(server.pid);
  let cpu0 = Number.NaN;
  let cpu = Number.NaN;
  let rssGrowth = Number.NaN;
  let serverExited: string | undefined;
  let ended = false;
  let resolveResult: (result: LoadResult) => void = () => {};
  const resulted = new Promise<LoadResult>((resolve) => {
    resolveResult = resolve;
  });
  const stopListening = load.onLine((line, stream) => {
    if (stream !== "stdout" || !line.startsWith("{")) return;
    const message = JSON.parse(line) as { event: string } & LoadResult;
    if (message.event === "start") {
      cpu0 = groupCpuSeconds(server.pid);
      onWindow();
    } else if (message.event === "end") {
      ended = true;
      cpu = groupCpuSeconds(server.pid) - cpu0;
      if (server.exit !== undefined) serverExited = describeExit(server.exit);
    } else if (message.event === "held") {
      rssGrowth = rssBytes(server.pid) - baseline;
      if (server.exit !== undefined) serverExited = describeExit(server.exit);
      load.child.stdin?.write("measured\n");
    } else if (message.event === "result") {
      // Only a server that ended inside the window counts as died; some end when the load hangs up.
      if (!ended) {
        cpu = groupCpuSeconds(server.pid) - cpu0;
        if (server.exit !== undefined) serverExited ??= describeExit(server.exit);
      }
      const { event: _, ...rest } = message;
      resolveResult(rest);
    }
  });
  load.child.stdin?.write(`${JSON.stringify(spec)}\n`);
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    resulted,
    load.exited,
    new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeLimitMs);
    }),
  ]);
  clearTimeout(timer);
  stopListening();
  if (outcome === "timeout") {
    await load.stop(500);
    throw new Error(`load client gave no result within ${timeLimitMs / 1000} s`);
  }
  if (!("ops" in outcome)) {
    const why = lastError(load.recent.filter((line) => !line.startsWith("{")));
    throw new Error(
      `load client ended (${describeExit(outcome)}) without a result${why ? `: ${why}` : ""}`,
    );
  }
  return {
    result: outcome,
    cpu,
    rssGrowth,
    ...(serverExited === undefined ? {} : { serverExited }),
  };
}

/**
 * One measurement: start the server (and the load client beside it), drive
 * the load, stop both.
 */
async function measure(
  registry: ProcessRegistry,
  scenario: Scenario,
  id: ProgramId,
  round: number,
  settings: LoadSettings,
  clients: LoadClients,
  onWindow: () => void,
): Promise<Measurement> {
  const info = program(id);
  // A fresh path each time: a peer killed by a signal leaves its socket file behind.
  const socketPath = join(settings.tmpDir, `${scenario.id}-${id}-${round}.sock`);
  const launch = info.launch(socketPath);
  const server = registry.start({
    name: id,
    command: launch.command,
    args: launch.args,
    raiseFileLimit: info.raiseFileLimit === true,
  });
  let load: { process: ManagedProcess; shared: boolean } | undefined;
  let healthy = false;
  try {
    const ready = await server.waitForLine(launch.ready, 20_000);
    const spec = scenario.load(launch.address(ready), settings, id);
    load = clients.get(spec);
    const limit =
      scenario.id === "held-conns"
        ? 120_000 + settings.heldConnections * 10
        : (settings.warmup * 3 + settings.duration + 30) * 1000;
    const { result, cpu, rssGrowth, serverExited } = await drive(
      load.process,
      server,
      spec,
      limit,
      onWindow,
    );
    const operations = scenario.operation === "MB" ? result.bytes / 1e6 : result.ops;
    const measurement: Measurement = {
      round,
      figure: scenario.figure ? scenario.figure(result) : result.ops / result.seconds,
      serverCpuSeconds: cpu,
      cpuPerOperation: operations > 0 ? cpu / operations : Number.NaN,
      clientCpuShare: result.clientCpuSeconds / result.seconds,
      result,
    };
    if (!Number.isNaN(rssGrowth)) {
      const held = Number(result.finalCheck ?? result.ops);
      measurement.bytesPerConnection = held > 0 ? rssGrowth / held : Number.NaN;
    }
    if (serverExited !== undefined) measurement.serverExited = serverExited;
    healthy = true;
    return measurement;
  } finally {
    await Promise.all([
      load === undefined || (load.shared && healthy) ? undefined : load.process.stop(500),
      server.stop(),
    ]);
    await rm(socketPath, { force: true });
  }
}

/**
 * socklab's result against the target.
 *
 * @param scenario The scenario.
 * @param programs Its results.
 * @param settings The run's settings (held connections asked for).
 * @returns The verdict.
 */
export function judge(
  scenario: Scenario,
  programs: readonly ProgramReport[],
  settings: Pick<LoadSettings, "heldConnections">,
): Verdict {
  const ours = programs.find((p) => p.socklab && p.measurements.length > 0);
  if (ours === undefined) {
    const skipped = programs.find((p) => p.socklab);
    return { met: undefined, reason: skipped?.skipped ?? "socklab did not run" };
  }
  const reasons: string[] = [];
  let met = true;
  const { atLeast, zeroLoss, held } = scenario.target;
  if (atLeast !== undefined) {
    const measured = atLeast.peers.filter(
      (peer) =>
        !Number.isNaN(programs.find((p) => p.program === peer)?.figure.median ?? Number.NaN),
    );
    if (measured.length === 0) {
      return { met: undefined, reason: `not judged: ${atLeast.peers.join(", ")} not measured` };
    }
    for (const peer of atLeast.peers) {
      const report = programs.find((p) => p.program === peer);
      const theirs = report?.figure.median ?? Number.NaN;
      if (Number.isNaN(theirs)) {
        reasons.push(`${PROGRAMS[peer].label} not measured`);
        continue;
      }
      const ratio = ours.figure.median / theirs;
      if (!(ratio >= atLeast.factor)) met = false;
      reasons.push(`${ratio.toFixed(2)}× ${PROGRAMS[peer].label}`);
    }
  }
  if (zeroLoss) {
    const lost = ours.measurements.reduce((sum, m) => sum + Number(m.result.lost ?? 0), 0);
    if (lost > 0) met = false;
    reasons.push(`${lost} lost`);
  }
  if (held !== undefined) {
    const want = Math.min(held.min, settings.heldConnections);
    const got = Math.min(...ours.measurements.map((m) => Number(m.result.finalCheck ?? 0)));
    const perConnection = Math.max(
      ...ours.measurements.map((m) => m.bytesPerConnection ?? Number.NaN),
    );
    if (!(got >= want)) met = false;
    if (!(perConnection <= held.maxBytesPerConnection)) met = false;
    reasons.push(`${got} of ${want} held`, `${(perConnection / 1000).toFixed(1)} KB/conn`);
  }
  if (ours.failures.length > 0) {
    met = false;
    reasons.push(`${ours.failures.length} round(s) failed`);
  }
  return { met, reason: reasons.join(", ") };
}

/**
 * Runs the scenarios and returns every figure.
 *
 * @param options Scenarios, rounds, settings, the process registry and progress hooks.
 * @returns The report (also when some programs were skipped or failed).
 * @example
 * ```ts
 * import { runBench } from "./harness.ts";
 * import { ProcessRegistry } from "./process_registry.ts";
 * import { SCENARIOS } from "./scenarios.ts";
 * const report = await runBench({
 *   scenarios: SCENARIOS.slice(0, 1),
 *   rounds: 1,
 *   registry: new ProcessRegistry(),
 *   tmpDir: "/tmp/socklab-bench-x", // an empty dir of yours
 *   settings: { duration: 1, warmup: 0.2, heldConnections: 500, httpLoad: "autocannon" },
 * });
 * ```
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const { registry, rounds } = options;
  const settings: LoadSettings = { ...options.settings, tmpDir: options.tmpDir };
  const clients = new LoadClients(registry);
  if (options.scenarios.length > 0) clients.agent();
  try {
    // Probe each socklab command the chosen scenarios need, all at once.
    const commands = new Set(
      options.scenarios.flatMap((s) => s.socklab.map((id) => program(id).requires.socklab ?? "")),
    );
    commands.delete("");
    const socklabCommands = new Map(
      await Promise.all(
        [...commands].map(async (c) => [c, await probeSocklab(c, registry)] as const),
      ),
    );

    // Which servers run in each scenario: every peer, and the first socklab server that exists.
    const plans = options.scenarios.map((scenario) => {
      const reports = new Map<ProgramId, ProgramReport>();
      for (const id of scenario.peers)
        reports.set(id, emptyReport(id, missing(id, socklabCommands)));
      const ours = scenario.socklab.find((id) => missing(id, socklabCommands) === undefined);
      const first = scenario.socklab[0];
      if (ours !== undefined) reports.set(ours, emptyReport(ours));
      else if (first !== undefined) {
        reports.set(first, emptyReport(first, missing(first, socklabCommands)));
      }
      for (const report of reports.values()) {
        if (report.skipped !== undefined) {
          options.onNote?.(`${scenario.id}: skipping ${report.label}: ${report.skipped}`);
        }
      }
      return { scenario, reports };
    });
    const total = plans.reduce(
      (sum, plan) =>
        sum + [...plan.reports.values()].filter((r) => r.skipped === undefined).length * rounds,
      0,
    );

    let done = 0;
    const results: ScenarioReport[] = [];
    for (const { scenario, reports } of plans) {
      const runnable = [...reports.values()].filter((r) => r.skipped === undefined);
      for (let round = 1; round <= rounds; round++) {
        // Rotate the order every round so no server always runs first (or right after another).
        const shift = (round - 1) % Math.max(1, runnable.length);
        const order = [...runnable.slice(shift), ...runnable.slice(0, shift)];
        for (const report of order) {
          const base = { total, scenario: scenario.id, program: report.program, round };
          options.onProgress?.({ ...base, done, phase: "start" });
          let text: string;
          try {
            const m = await measure(
              registry,
              scenario,
              report.program,
              round,
              settings,
              clients,
              () => options.onProgress?.({ ...base, done, phase: "measuring" }),
            );
            report.measurements.push(m);
            text =
              options.formatFigure?.(m.figure, scenario.unit) ?? `${m.figure} ${scenario.unit}`;
          } catch (err) {
            const reason = (err as Error).message;
            report.failures.push(`round ${round}: ${reason}`);
            text = `failed: ${reason}`;
            options.onNote?.(`${scenario.id}: ${report.label}, round ${round}: ${reason}`);
          }
          done++;
          options.onProgress?.({ ...base, done, phase: "done", text });
        }
      }
      for (const report of reports.values()) {
        report.figure = summarize(report.measurements.map((m) => m.figure));
        report.cpuPerOperation = summarize(
          report.measurements.map((m) => m.cpuPerOperation),
        ).median;
      }
      const reference = reports.get(scenario.reference)?.figure.median ?? Number.NaN;
      for (const report of reports.values()) report.ratio = report.figure.median / reference;
      const programs = [...reports.values()];
      results.push({
        id: scenario.id,
        title: scenario.title,
        unit: scenario.unit,
        operation: scenario.operation,
        reference: scenario.reference,
        target: scenario.target.text,
        programs,
        verdict: judge(scenario, programs, settings),
      });
    }
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? "unknown",
        loadAverage: { start: loadAtStart, end: loadavg()[0] ?? Number.NaN },
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      options: {
        rounds,
        settings: options.settings,
        scenarios: options.scenarios.map((s) => s.id),
      },
      scenarios: results,
      processes: [...registry.started],
    };
  } finally {
    await registry.stopAll();
  }
}
