/**
 * The bench's table: one row per server and scenario with the median figure,
 * its spread over rounds, the ratio to the reference peer, the server's CPU
 * time per operation, notes, and whether socklab met its target.
 *
 * @module
 */
import { formatCount, formatDuration, formatInteger, formatTable } from "./format_table.ts";
import type { BenchReport, ProgramReport, ScenarioReport } from "./harness.ts";

/** Column titles of the results table. */
export const COLUMNS = [
  "scenario",
  "program",
  "figure (median)",
  "spread",
  "ratio",
  "server CPU/op",
  "notes",
  "target",
] as const;

/**
 * A figure with its unit: counts of connections and MB/s in full, rates shortened.
 *
 * @param value The figure.
 * @param unit `req/s`, `MB/s`, `conns`, …
 * @returns `24.0k req/s`, `1,658 MB/s`, `19,900 conns`.
 * @example
 * ```ts
 * import { formatFigure } from "./results_table.ts";
 * formatFigure(60123, "rt/s"); // "60.1k rt/s"
 * ```
 */
export function formatFigure(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "—";
  const number = unit === "MB/s" || unit === "conns" ? formatInteger(value) : formatCount(value);
  return `${number} ${unit}`;
}

function spread(report: ProgramReport, unit: string): string {
  const { min, max, spread, count } = report.figure;
  if (count < 2) return "—";
  const short = (v: number): string => formatFigure(v, unit).replace(/ \S+$/, "");
  return `${short(min)}–${short(max)} (±${(spread * 100).toFixed(1)}%)`;
}

function notes(report: ProgramReport, unit: string): string {
  if (report.skipped !== undefined) return `skipped: ${report.skipped}`;
  const out: string[] = [];
  const sum = (key: string): number =>
    report.measurements.reduce((total, m) => total + Number(m.result[key] ?? 0), 0);
  const errors = sum("errors");
  const lost = sum("lost");
  const late = sum("late");
  if (lost > 0) out.push(`${formatInteger(lost)} lost`);
  if (late > 0) out.push(`${formatInteger(late)} late`);
  if (errors > lost) {
    const first = report.measurements.find((m) => m.result.firstError !== undefined)?.result
      .firstError;
    out.push(
      `${formatInteger(errors - lost)} errors${first === undefined ? "" : ` (${String(first)})`}`,
    );
  }
  const perConnection = report.measurements
    .map((m) => m.bytesPerConnection)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (perConnection.length > 0) {
    out.push(`${(Math.max(...perConnection) / 1000).toFixed(2)} KB/conn`);
  }
  const finalCheck = report.measurements.map((m) => m.result.finalCheck);
  const peak = report.measurements.map((m) => m.result.peak);
  finalCheck.forEach((held, i) => {
    if (held !== undefined && held !== peak[i]) {
      out.push(`only ${formatInteger(Number(held))} still echoed once all were open`);
    }
  });
  const exited = report.measurements.find((m) => m.serverExited !== undefined)?.serverExited;
  if (exited !== undefined) out.push(`server died (${exited})`);
  const client = Math.max(
    ...report.measurements.map((m) => m.clientCpuShare).filter(Number.isFinite),
  );
  // Held connections are a count, not a rate the client could cap.
  if (client >= 0.9 && unit !== "conns")
    out.push(`load client at ${Math.round(client * 100)}% of a core`);
  for (const failure of report.failures) {
    out.push(`failed ${failure.length > 100 ? `${failure.slice(0, 99)}…` : failure}`);
  }
  return out.join("; ");
}

function target(scenario: ScenarioReport, report: ProgramReport): string {
  if (report.socklab) {
    const { met, reason } = scenario.verdict;
    if (met === undefined) return `not judged: ${reason}`;
    return `${met ? "met" : "NOT MET"}: ${scenario.target} (${reason})`;
  }
  return report.program === scenario.reference ? "reference" : "";
}

/**
 * The markdown table of a bench run.
 *
 * @param report What the run measured.
 * @returns The table.
 * @example
 * ```ts
 * import { resultsTable } from "./results_table.ts";
 * process.stdout.write(resultsTable(report));
 * ```
 */
export function resultsTable(report: Pick<BenchReport, "scenarios">): string {
  const rows: string[][] = [];
  for (const scenario of report.scenarios) {
    scenario.programs.forEach((program, index) => {
      rows.push([
        index === 0 ? scenario.title : "",
        program.label,
        formatFigure(program.figure.median, scenario.unit),
        spread(program, scenario.unit),
        Number.isFinite(program.ratio) ? `${program.ratio.toFixed(2)}×` : "—",
        Number.isFinite(program.cpuPerOperation)
          ? `${formatDuration(program.cpuPerOperation)}/${scenario.operation}`
          : "—",
        notes(program, scenario.unit),
        target(scenario, program),
      ]);
    });
  }
  return formatTable(COLUMNS, rows, ["l", "l", "r", "r", "r", "r", "l", "l"]);
}
