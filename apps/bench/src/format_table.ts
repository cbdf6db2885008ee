/**
 * The markdown table the bench prints, and how its figures are written.
 *
 * @module
 */

/**
 * A markdown table with a header row, columns padded so it also reads as plain text.
 * Pipes inside cells are escaped.
 *
 * @param header Column titles.
 * @param rows Cells, one array per row (missing cells are empty).
 * @param align Per column `l` or `r` (right for figures); left by default.
 * @returns The table, one line per row, ending with a newline.
 * @example
 * ```ts
 * import { formatTable } from "./format_table.ts";
 * formatTable(["a", "b"], [["x", "1"]], ["l", "r"]);
 * // "| a | b |\n|---|--:|\n| x | 1 |\n"
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ("l" | "r")[] = [],
): string {
  const escapeCell = (cell: string): string => cell.replaceAll("|", "\\|");
  const all = [header, ...rows].map((row) => header.map((_, i) => escapeCell(row[i] ?? "")));
  const widths = header.map((_, i) => Math.max(3, ...all.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => (align[i] === "r" ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return `${[line(all[0]!), rule, ...all.slice(1).map(line)].join("\n")}\n`;
}

/**
 * A count or rate in a short form: `912`, `7.12k`, `60.1k`, `1.23M`.
 *
 * @param value The number.
 * @returns Three significant digits with a k/M suffix from 1,000 on; `—` for NaN.
 * @example
 * ```ts
 * import { formatCount } from "./format_table.ts";
 * formatCount(24012); // "24.0k"
 * ```
 */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs < 1000) return abs < 10 && !Number.isInteger(value) ? value.toFixed(1) : value.toFixed(0);
  const [scaled, suffix] = abs < 1e6 ? [value / 1e3, "k"] : [value / 1e6, "M"];
  const digits = Math.abs(scaled) < 10 ? 2 : Math.abs(scaled) < 100 ? 1 : 0;
  return `${scaled.toFixed(digits)}${suffix}`;
}

/**
 * A whole number with thousands separators: `19,900`.
 *
 * @param value The number (rounded).
 * @returns The text; `—` for NaN.
 * @example
 * ```ts
 * import { formatInteger } from "./format_table.ts";
 * formatInteger(1658.4); // "1,658"
 * ```
 */
export function formatInteger(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A duration in seconds in the unit that suits it: `850 ns`, `12.3 µs`, `1.2 ms`.
 *
 * @param seconds The duration.
 * @returns Three significant digits; `—` for NaN.
 * @example
 * ```ts
 * import { formatDuration } from "./format_table.ts";
 * formatDuration(0.0000123); // "12.3 µs"
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const units = [
    [1, "s"],
    [1e-3, "ms"],
    [1e-6, "µs"],
    [1e-9, "ns"],
  ] as const;
  for (const [scale, unit] of units) {
    const value = Number((seconds / scale).toPrecision(3));
    if (value >= 1 || scale === 1e-9) return `${value} ${unit}`;
  }
  return "—";
}
