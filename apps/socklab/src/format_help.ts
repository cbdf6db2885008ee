import type { Command, OptionSpecs } from "./command.ts";
import type { Output } from "./output.ts";

/**
 * Writes a command's `--help`: usage, description, options with defaults, examples.
 *
 * @param command The command.
 * @param frameOptions The options every command has.
 * @param style Colour helpers.
 * @returns The help text, ending in a newline.
 */
export function formatHelp(
  command: Command<OptionSpecs>,
  frameOptions: OptionSpecs,
  style: Output["style"],
): string {
  const lines = [
    `${style.bold(`socklab ${command.name}`)} — ${command.summary}`,
    "",
    `Usage: socklab ${command.name} ${command.usage}`.trimEnd(),
  ];
  if (command.description) lines.push("", command.description);
  const rows = Object.entries({ ...command.options, ...frameOptions }).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`;
    const def =
      spec.default !== undefined && spec.default !== false ? ` (default: ${spec.default})` : "";
    return [flag, `${spec.description}${def}`] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  lines.push("", "Options:", ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`));
  lines.push("", "Examples:", ...command.examples.map((e) => `  ${style.cyan(e)}`));
  return `${lines.join("\n")}\n`;
}
