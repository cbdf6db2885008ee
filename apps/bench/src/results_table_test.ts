import { describe, expect, test } from "vitest";
import { judge, type Measurement, type ProgramReport } from "./harness.ts";
import type { LoadResult } from "./load/_report.ts";
import { PROGRAMS, type ProgramId } from "./programs.ts";
import { COLUMNS, formatFigure, resultsTable } from "./results_table.ts";
import { SCENARIOS } from "./scenarios.ts";
import { summarize } from "./statistics.ts";

const scenario = (id: string) => SCENARIOS.find((s) => s.id === id)!;

function measured(
  id: ProgramId,
  figures: number[],
  extra: Partial<LoadResult> = {},
  more: Partial<Measurement> = {},
): ProgramReport {
  const measurements = figures.map((figure, i) => ({
    round: i + 1,
    figure,
    serverCpuSeconds: 1,
    cpuPerOperation: 1 / figure,
    clientCpuShare: 0.5,
    result: { ops: figure, seconds: 1, bytes: 0, errors: 0, clientCpuSeconds: 0.5, ...extra },
    ...more,
  }));
  return {
    program: id,
    label: PROGRAMS[id].label,
    socklab: PROGRAMS[id].socklab,
    measurements,
    failures: [],
    figure: summarize(figures),
    cpuPerOperation: 1 / summarize(figures).median,
    ratio: Number.NaN,
  };
}

function skipped(id: ProgramId, why: string): ProgramReport {
  return { ...measured(id, []), skipped: why };
}

const settings = { heldConnections: 19_900 };

describe("judge()", () => {
  test("judge() says met when socklab reaches the factor over the peer", () => {
    const s = scenario("http-keep-alive");
    const verdict = judge(
      s,
      [measured("node-http", [24_000]), measured("socklab-tcp-server", [30_000])],
      settings,
    );
    expect(verdict).toEqual({ met: true, reason: "1.25× bare Node http" });
  });

  test("judge() says not met below the factor", () => {
    const s = scenario("http-keep-alive");
    const verdict = judge(
      s,
      [measured("node-http", [24_000]), measured("socklab-tcp-server", [26_000])],
      settings,
    );
    expect(verdict.met).toBe(false);
  });

  test("judge() needs socklab at least as fast as every listed peer", () => {
    const s = scenario("unix-echo-rt");
    const programs = [
      measured("node-net-unix", [60_000]),
      measured("python-selectors-unix", [78_000]),
      measured("socklab-unix-stream", [70_000]),
    ];
    expect(judge(s, programs, settings).met).toBe(false);
  });

  test("judge() does not judge when socklab did not run or no peer was measured", () => {
    const s = scenario("udp-echo");
    expect(
      judge(s, [measured("python-udp", [60_000]), skipped("socklab-udp", "not there")], settings),
    ).toEqual({ met: undefined, reason: "not there" });
    expect(
      judge(s, [skipped("python-udp", "no python"), measured("socklab-udp", [1])], settings).met,
    ).toBeUndefined();
  });

  test("judge() counts a lost datagram against the zero-loss target", () => {
    const s = scenario("udp-echo");
    const verdict = judge(
      s,
      [measured("python-udp", [60_000]), measured("socklab-udp", [70_000], { lost: 1 })],
      settings,
    );
    expect(verdict).toEqual({ met: false, reason: "1.17× Python UDP echo, 1 lost" });
  });

  test("judge() checks held connections and memory per connection", () => {
    const s = scenario("held-conns");
    const ok = measured(
      "socklab-multiplex",
      [19_900],
      { finalCheck: 19_900, peak: 19_900 },
      { bytesPerConnection: 4000 },
    );
    expect(judge(s, [ok], settings)).toEqual({
      met: true,
      reason: "19900 of 19900 held, 4.0 KB/conn",
    });
    const fat = {
      ...ok,
      measurements: ok.measurements.map((m) => ({ ...m, bytesPerConnection: 6000 })),
    };
    expect(judge(s, [fat], settings).met).toBe(false);
    expect(judge(s, [ok], { heldConnections: 1100 }).reason).toBe(
      "19900 of 1100 held, 4.0 KB/conn",
    );
  });
});

describe("resultsTable()", () => {
  test("resultsTable() has one row per program with figure, ratio, CPU per operation and target", () => {
    const s = scenario("tcp-echo-rt");
    const reference = { ...measured("python-selectors", [50_000, 60_000, 70_000]), ratio: 1 };
    const ours = { ...measured("socklab-multiplex", [66_000]), ratio: 1.1 };
    const absent = skipped("socat", "socat is not installed");
    const table = resultsTable({
      scenarios: [
        {
          id: s.id,
          title: s.title,
          unit: s.unit,
          operation: s.operation,
          reference: s.reference,
          target: s.target.text,
          programs: [reference, absent, ours],
          verdict: { met: true, reason: "1.10× Python selectors echo" },
        },
      ],
    });
    const lines = table.trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    const cells = (line: string) => line.split(" | ").map((c) => c.replace(/^\| |\|$/g, "").trim());
    expect(cells(lines[0]!)).toEqual([...COLUMNS]);
    expect(cells(lines[2]!)).toEqual([
      s.title,
      "Python selectors echo",
      "60.0k rt/s",
      "50.0k–70.0k (±16.7%)",
      "1.00×",
      "16.7 µs/rt",
      "",
      "reference",
    ]);
    expect(cells(lines[3]!)).toContain("skipped: socat is not installed");
    expect(cells(lines[4]!)).toEqual([
      "",
      "socklab multiplex",
      "66.0k rt/s",
      "—",
      "1.10×",
      "15.2 µs/rt",
      "",
      "met: ≥ Python selectors (1.10× Python selectors echo)",
    ]);
  });

  test("formatFigure() writes MB/s and connections in full, rates short", () => {
    expect(formatFigure(1658.2, "MB/s")).toBe("1,658 MB/s");
    expect(formatFigure(19_900, "conns")).toBe("19,900 conns");
    expect(formatFigure(60_123, "rt/s")).toBe("60.1k rt/s");
    expect(formatFigure(Number.NaN, "rt/s")).toBe("—");
  });
});
