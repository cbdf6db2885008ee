import { describe, expect, test } from "vitest";
import { formatCount, formatDuration, formatInteger, formatTable } from "./format_table.ts";

describe("formatTable()", () => {
  test("formatTable() pads columns and right-aligns where asked", () => {
    expect(
      formatTable(
        ["name", "n"],
        [
          ["a", "1"],
          ["bb", "100"],
        ],
        ["l", "r"],
      ),
    ).toBe(["| name |   n |", "|------|----:|", "| a    |   1 |", "| bb   | 100 |", ""].join("\n"));
  });

  test("formatTable() escapes pipes and fills missing cells", () => {
    expect(formatTable(["a", "b"], [["x|y"]])).toBe(
      ["| a    | b   |", "|------|-----|", "| x\\|y |     |", ""].join("\n"),
    );
  });
});

describe("figures", () => {
  test.each([
    [912, "912"],
    [7123, "7.12k"],
    [24012, "24.0k"],
    [151_000, "151k"],
    [1_230_000, "1.23M"],
    [2.5, "2.5"],
    [Number.NaN, "—"],
  ])("formatCount(%d) is %s", (value, text) => {
    expect(formatCount(value)).toBe(text);
  });

  test.each([
    [1658.4, "1,658"],
    [19900, "19,900"],
    [12, "12"],
    [Number.NaN, "—"],
  ])("formatInteger(%d) is %s", (value, text) => {
    expect(formatInteger(value)).toBe(text);
  });

  test.each([
    [0.0000123, "12.3 µs"],
    [0.00000085, "850 ns"],
    [0.0012, "1.2 ms"],
    [0.0009996, "1 ms"],
    [2, "2 s"],
    [Number.NaN, "—"],
  ])("formatDuration(%d) is %s", (value, text) => {
    expect(formatDuration(value)).toBe(text);
  });
});
