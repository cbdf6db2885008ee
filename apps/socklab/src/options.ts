/**
 * Options shared by several commands, decided once: `--host`, `--port`, `--path`,
 * counts and durations.
 *
 * @module
 */
import { hostKind, parseEscapes, parsePort, parseUnixPath, type UnixPath } from "@socklab/core";
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

/**
 * Reads a duration in milliseconds (`500`, `500ms`, `5s`, `1.5s`, `2m`).
 *
 * @param name The option's name, for the message.
 * @returns A parser giving milliseconds.
 */
export function duration(name: string): (value: string) => number {
  return (value) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
    if (match === null)
      throw rangeError(
        `Cannot use --${name} "${value}": expected a duration such as 500, 500ms, 5s or 2m`,
      );
    const unit = match[2] ?? "ms";
    return Math.round(Number(match[1]) * (unit === "m" ? 60_000 : unit === "s" ? 1000 : 1));
  };
}

/**
 * Reads seconds (`5`, `0.5`, `5s`, `500ms`) as milliseconds, for the tutorial's idle timeout.
 *
 * @param name The option's name, for the message.
 * @returns A parser giving milliseconds.
 */
export function seconds(name: string): (value: string) => number {
  const ms = duration(name);
  return (value) =>
    /^\d+(\.\d+)?$/.test(value.trim()) ? Math.round(Number(value) * 1000) : ms(value);
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
  parse: (value: string) => parsePort(value),
} as const satisfies OptionSpec<number>;

/** The same for UDP, where service names are looked up for udp. */
export const udpPortOption = {
  ...portOption,
  parse: (value: string) => parsePort(value, "udp"),
} as const satisfies OptionSpec<number>;

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
