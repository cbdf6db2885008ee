/**
 * Runs one command: parses its options, wires the stop signal, prints known
 * errors as one line and picks the exit code.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { isUserFacingError } from "@socklab/core";
import { nearest } from "./_nearest.ts";
import { type Command, ExitCode, type OptionSpecs, UsageError } from "./command.ts";
import { formatHelp } from "./format_help.ts";
import { Output } from "./output.ts";

/** Where a command runs; tests pass their own streams and signal. */
export interface RunOptions {
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream;
  /** Stops the command instead of SIGINT/SIGTERM (tests). */
  signal?: AbortSignal;
  /** Listen for SIGINT/SIGTERM (the real process does, tests do not). */
  handleSignals?: boolean;
}

const FRAME_OPTIONS = {
  help: { type: "boolean", short: "h", description: "Show this help" },
  json: { type: "boolean", description: "Print one JSON object per event on stdout, for scripts" },
  quiet: {
    type: "boolean",
    short: "q",
    description: "No per-event lines (the ready line and errors still print)",
  },
  color: {
    type: "boolean",
    description: "Force colours (default: only on a TTY, never with NO_COLOR)",
  },
  "no-color": { type: "boolean", description: "No colours" },
} as const;

/**
 * Runs a command with its arguments.
 *
 * @param command The command.
 * @param argv Its arguments (after the command name).
 * @param options Streams and stop signal.
 * @returns The exit code: 0 ok (also after a graceful stop), 1 runtime error, 2 usage error.
 */
export async function runCommand<O extends OptionSpecs>(
  command: Command<O>,
  argv: readonly string[],
  options: RunOptions = {},
): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const specs: OptionSpecs = { ...command.options, ...FRAME_OPTIONS };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv, specs),
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        Object.entries(specs).map(([name, spec]) => [
          name,
          {
            type: spec.type,
            ...(spec.short === undefined ? {} : { short: spec.short }),
            ...(spec.multiple ? { multiple: true } : {}),
          },
        ]),
      ),
    });
  } catch (err) {
    return usageFailure(command, stderr, parseArgsMessage(command, specs, err as Error));
  }
  const raw = parsed.values as Record<string, unknown>;
  const out = new Output({
    json: raw.json === true,
    quiet: raw.quiet === true,
    ...(raw.color === true ? { color: true } : raw["no-color"] === true ? { color: false } : {}),
    ...(options.stdout === undefined ? {} : { stdout: options.stdout as never }),
    stderr: stderr as never,
  });
  if (raw.help === true) {
    out.stdout.write(formatHelp(command, FRAME_OPTIONS, out.style));
    return ExitCode.ok;
  }

  const stray = parsed.positionals[command.maxPositionals ?? 0];
  if (stray !== undefined) return usageFailure(command, stderr, strayMessage(command, stray));

  const values: Record<string, unknown> = {};
  try {
    for (const [name, spec] of Object.entries(command.options)) {
      const given = raw[name] ?? spec.default;
      if (spec.parse === undefined || given === undefined || typeof given === "boolean") {
        values[name] = given ?? (spec.type === "boolean" ? false : spec.multiple ? [] : undefined);
      } else if (Array.isArray(given)) {
        values[name] = given.map((v) => spec.parse!(String(v)));
      } else {
        values[name] = spec.parse(String(given));
      }
    }
  } catch (err) {
    if (isUserFacingError(err)) return usageFailure(command, stderr, err.message);
    throw err;
  }

  const controller = new AbortController();
  const stop = (): void => controller.abort();
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener("abort", stop, { once: true });
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      controller.abort(new Error(`Stopped by ${name}`));
    } else {
      stderr.write(`socklab: stopping at once (${name} again)\n`);
      process.exit(name === "SIGINT" ? 130 : 143);
    }
  };
  if (options.handleSignals) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  try {
    const code = await command.run({
      values: values as never,
      positionals: parsed.positionals,
      out,
      signal: controller.signal,
    });
    return code ?? ExitCode.ok;
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(command, stderr, err.message);
    if (isUserFacingError(err)) {
      stderr.write(`socklab ${command.name}: ${err.message}\n`);
      return ExitCode.failure;
    }
    stderr.write(`socklab ${command.name}: unexpected error (a bug; please report it)\n`);
    stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.failure;
  } finally {
    if (options.handleSignals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    options.signal?.removeEventListener("abort", stop);
  }
}

/**
 * Joins a value that looks like a negative number to its option (`--port -1` becomes
 * `--port=-1`), so the option's own check answers instead of parseArgs' "ambiguous".
 */
function joinNegativeValues(argv: readonly string[], specs: OptionSpecs): string[] {
  const takesValue = (arg: string): boolean => {
    const spec = arg.startsWith("--")
      ? specs[arg.slice(2)]
      : /^-[^-]$/.test(arg)
        ? Object.values(specs).find((s) => s.short === arg[1])
        : undefined;
    return spec?.type === "string";
  };
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (next !== undefined && /^-\d/.test(next) && takesValue(arg)) {
      args.push(`${arg}=${next}`);
      i += 1;
    } else {
      args.push(arg);
    }
  }
  return args;
}

/** One line for what parseArgs refused: an unknown option gets the nearest known one. */
function parseArgsMessage(command: Command<OptionSpecs>, specs: OptionSpecs, err: Error): string {
  const code = (err as { code?: string }).code;
  const unknown = /^Unknown option '([^']+)'/.exec(err.message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== undefined) {
    const typed = unknown.replace(/^--?/, "").split("=")[0]!;
    const names = Object.keys(specs);
    const guess = unknown.startsWith("--") ? nearest(typed, names) : undefined;
    if (guess !== undefined) return `Unknown option "${unknown}": did you mean --${guess}?`;
    const positional =
      (command.maxPositionals ?? 0) > 0
        ? ` (an argument starting with "-" goes after "--": -- "${unknown}")`
        : "";
    return `Unknown option "${unknown}"${positional}`;
  }
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(err.message)?.[1];
  if (ambiguous !== undefined) {
    return `Cannot use ${ambiguous} without a value (a value starting with "-" goes as ${ambiguous}=-…)`;
  }
  const missing = /^Option '(?:-\w, )?(--[^ ']+) <value>' argument missing/.exec(err.message)?.[1];
  if (missing !== undefined) return `Cannot use ${missing} without a value`;
  // Node's parseArgs adds hints on further lines; the first line says what is wrong.
  return err.message.split("\n")[0]!;
}

/** Why a positional argument is refused, with the option it was probably meant for. */
function strayMessage(command: Command<OptionSpecs>, stray: string): string {
  const max = command.maxPositionals ?? 0;
  const takes = max === 0 ? "options only" : `at most ${max} argument${max === 1 ? "" : "s"}`;
  const options = command.options;
  const hint =
    "port" in options && /^\d+$/.test(stray)
      ? ` (did you mean --port ${stray}?)`
      : "path" in options && /^(\/|\.\/|@)/.test(stray)
        ? ` (did you mean --path ${stray}?)`
        : "";
  return `Cannot use "${stray}": ${command.name} takes ${takes}${hint}`;
}

function usageFailure(
  command: Command<OptionSpecs>,
  stderr: NodeJS.WritableStream,
  message: string,
): number {
  stderr.write(
    `socklab ${command.name}: ${message}\nRun "socklab ${command.name} --help" for usage.\n`,
  );
  return ExitCode.usage;
}
