/**
 * Options shared by several commands, decided once: `--host`, `--port`, `--path`,
 * counts and durations.
 *
 * @module
 */
import {
  hostKind,
  parseDuration,
  parseEscapes,
  parsePort,
  parseUnixPath,
  type UnixPath,
} from "@socklab/core";
import type { OptionSpec } from "./command.ts";

/**
 * Reads a whole number within bounds, for options such as `--count`.
 *
 * @param name The option's name, for the message.
 * @param min Smallest allowed value.
 * @param max Largest allowed value.
 * @returns A parser for {@linkcode OptionSpec.parse}.
 */
export function integer(
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw rangeError(
        `Cannot use --${name} "${value}": expected a whole number from ${min} to ${max}`,
      );
    }
    return n;
  };
}

/** What every duration option's help says about its values. */
export const DURATION_HELP = "seconds, or with a unit: 500ms, 2s, 1m";

/**
 * Reads a duration the one way every command does: seconds by default, or with a
 * unit (`500ms`, `2s`, `1m`, `1h`), through core's `parseDuration`.
 *
 * @param name The option's name, for the message.
 * @param min The shortest duration allowed, in milliseconds (default 0).
 * @returns A parser giving milliseconds, for {@linkcode OptionSpec.parse}.
 * @example
 * ```ts
 * import { duration } from "./options.ts";
 * duration("timeout")("2"); // 2000
 * duration("timeout")("500ms"); // 500
 * ```
 */
export function duration(name: string, min = 0): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value, `--${name}`);
    if (ms < min) {
      throw rangeError(`Cannot use --${name} "${value}": it must be at least ${min} ms`);
    }
    return ms;
  };
}

/**
 * Declares a duration option: its help line ends with the one rule for durations
 * ({@linkcode DURATION_HELP}) and its value is milliseconds.
 *
 * @param name The option's long name (`timeout`), for messages.
 * @param description What the duration is for, one line without the units.
 * @param extra The default as written (`"5"`, `"10s"`), a short alias, the smallest value in ms.
 * @returns The option spec.
 * @example
 * ```ts
 * import { durationOption } from "./options.ts";
 * const timeout = durationOption("timeout", "Give up after this long", { default: "10" });
 * timeout.parse("1"); // 1000
 * ```
 */
export function durationOption<const D extends string | undefined = undefined>(
  name: string,
  description: string,
  extra: { default?: D; short?: string; min?: number } = {},
): {
  type: "string";
  valueName: "DURATION";
  description: string;
  parse: (value: string) => number;
  short?: string;
} & (D extends string ? { default: D } : unknown) {
  return {
    type: "string",
    valueName: "DURATION",
    description: `${description} (${DURATION_HELP})`,
    parse: duration(name, extra.min ?? 0),
    ...(extra.short === undefined ? {} : { short: extra.short }),
    ...(extra.default === undefined ? {} : { default: extra.default }),
  } as never;
}

function rangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: "ERR_SOCKLAB_INVALID_OPTION" });
}

function checkHost(value: string): string {
  hostKind(value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value);
  return value.startsWith("[") ? value.slice(1, -1) : value;
}

/** `--host`: where to listen or connect; `localhost` by default, `""` or `::` for all interfaces. */
export const hostOption = {
  type: "string",
  short: "H",
  valueName: "HOST",
  default: "localhost",
  description: 'Host name or address ("" or :: for all interfaces, [::1] for IPv6)',
  parse: checkHost,
} as const satisfies OptionSpec<string>;

/** `--port`: 50000 by default as in the tutorial; 0 lets the system pick; service names work. */
export const portOption = {
  type: "string",
  short: "p",
  valueName: "PORT",
  default: "50000",
  description: "Port 0-65535 or a service name (0 lets the system pick)",
  parse: (value: string) => portNumber(value, "tcp"),
} as const satisfies OptionSpec<number>;

/** The same for UDP, where service names are looked up for udp. */
export const udpPortOption = {
  ...portOption,
  parse: (value: string) => portNumber(value, "udp"),
} as const satisfies OptionSpec<number>;

/** `--port` through core's `parsePort`, with a number out of range named as the option. */
function portNumber(value: string, protocol: "tcp" | "udp"): number {
  if (/^\s*[-+]?\d+\s*$/.test(value) && !/^\d+$/.test(value.trim())) {
    throw rangeError(`Cannot use --port "${value}": the port must be 0-65535`);
  }
  try {
    return parsePort(value, protocol);
  } catch (err) {
    if (/^\d+$/.test(value.trim())) {
      throw rangeError(`Cannot use --port "${value}": the port must be 0-65535`);
    }
    throw err;
  }
}

/**
 * `--path`: a UNIX socket path, or `@name` for a Linux abstract socket.
 *
 * @param defaultPath The tutorial's path for this command.
 * @returns The option.
 */
export function pathOption(defaultPath: string) {
  return {
    type: "string",
    valueName: "PATH",
    default: defaultPath,
    description: "UNIX socket path, or @name for a Linux abstract socket",
    parse: parseUnixPath,
  } as const satisfies OptionSpec<UnixPath>;
}

/**
 * `--path` with no default, for a command that serves a UNIX socket only when
 * asked: an empty path is a usage error (exit code 2) like every bad value.
 *
 * @param description The line for `--help`.
 * @returns The option; its value is `undefined` when not given.
 */
export function optionalPathOption(description: string) {
  return {
    type: "string",
    valueName: "PATH",
    description,
    parse: parseUnixPath,
  } as const satisfies OptionSpec<UnixPath>;
}

/**
 * `--message`: what a client sends, with escapes (`\r \n \t \0 \xNN`).
 *
 * @param shownDefault The tutorial's message, for `--help`.
 * @returns The option; its value is the bytes, or `undefined` for the default.
 */
export function messageOption(shownDefault: string) {
  return {
    type: "string",
    short: "m",
    valueName: "TEXT",
    description: `What to send, with escapes such as \\n and \\xff (default: ${shownDefault})`,
    parse: parseEscapes,
  } as const satisfies OptionSpec<Buffer>;
}

/** `--count`: how many datagrams a client sends (default 1). */
export const countOption = {
  type: "string",
  short: "n",
  valueName: "N",
  default: "1",
  description: "How many datagrams to send",
  parse: integer("count", 1),
} as const satisfies OptionSpec<number>;
