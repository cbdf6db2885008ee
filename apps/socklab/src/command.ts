/**
 * The command frame every socklab subcommand is written in: options with help
 * text and parsers, one context with output, a stop signal and exit codes.
 *
 * @module
 */
import { SocklabError } from "@socklab/core";
import type { Output } from "./output.ts";

/** One command-line option of a command. */
export interface OptionSpec<T = unknown> {
  /** `"boolean"` for flags, `"string"` for options with a value. */
  type: "boolean" | "string";
  /** One line for `--help`. */
  description: string;
  /** A one-letter alias (`-p`). */
  short?: string;
  /** Placeholder shown in `--help` (`PORT`). */
  valueName?: string;
  /** The value when the option is not given (as written on the command line). */
  default?: string | boolean;
  /** Turns the written value into the value the command sees; throwing is a usage error. */
  parse?: (value: string) => T;
  /** May be given more than once (values arrive as an array). */
  multiple?: boolean;
}

/** The options of a command, by long name. */
export type OptionSpecs = Record<string, OptionSpec>;

/** The value type of one option as a command sees it. */
type ValueOf<S> = S extends { parse: (value: string) => infer T }
  ? S extends { multiple: true }
    ? T[]
    : S extends { default: string }
      ? T
      : T | undefined
  : S extends { type: "boolean" }
    ? boolean
    : S extends { multiple: true }
      ? string[]
      : S extends { default: string }
        ? string
        : string | undefined;

/** The parsed option values of a command. */
export type OptionValues<O extends OptionSpecs> = { [K in keyof O]: ValueOf<O[K]> };

/** What a running command gets. */
export interface CommandContext<O extends OptionSpecs> {
  /** Parsed option values (after each option's `parse`). */
  values: OptionValues<O>;
  /** Positional arguments. */
  positionals: string[];
  /** Where the command prints: events, the ready line, JSON, colours. */
  out: Output;
  /** Aborted on the first SIGINT or SIGTERM: servers stop gracefully and return. */
  signal: AbortSignal;
}

/** A socklab subcommand. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  /** The subcommand's name (`tcp-server`). */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Usage after the command name (`[options] <address>`). */
  usage: string;
  /** Longer explanation for `--help`, a few lines. */
  description?: string;
  /** Example invocations for `--help`, each `socklab ...`. */
  examples: string[];
  /** The command's options; `--help`, `--json`, `--quiet` and `--no-color` are added by the frame. */
  options: O;
  /** How many positional arguments the command takes at most; more are a usage error. Default 0: options only. */
  maxPositionals?: number;
  /** Runs the command; returns the exit code (0 when nothing is returned). */
  run(context: CommandContext<O>): Promise<number | undefined> | number | undefined;
}

/**
 * Declares a command with typed options.
 *
 * @param command The command.
 * @returns The same command, typed.
 * @example
 * ```ts
 * import { defineCommand } from "./command.ts";
 * const hello = defineCommand({ name: "hello", summary: "Say hello", usage: "", examples: ["socklab hello"], options: {}, run: ({ out }) => { out.line("hello"); return 0; } });
 * ```
 */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}

/**
 * A wrong command line: printed as one line with a hint to `--help`, exit code 2.
 */
export class UsageError extends SocklabError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: "ERR_SOCKLAB_USAGE", ...options });
    this.name = "UsageError";
  }
}

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;
