import { isIPv4 } from "node:net";
import { invalidArgument } from "./errors.ts";

/**
 * Turns a dotted IPv4 address into its 32-bit number (tutorial 2.3).
 *
 * @param address Dotted quad such as `127.0.0.1`.
 * @returns The unsigned 32-bit integer.
 * @throws {TypeError} `ERR_SOCKLAB_INVALID_IPV4` when `address` is not a dotted IPv4 address.
 * @example
 * ```ts
 * import { ipv4ToInt } from "@socklab/core";
 * ipv4ToInt("127.0.0.1"); // 2130706433
 * ```
 */
export function ipv4ToInt(address: string): number {
  if (!isIPv4(address)) {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_IPV4",
      `Cannot read "${address}" as an IPv4 address: expected four numbers 0 to 255 separated by dots`,
    );
  }
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

/**
 * Turns a 32-bit number into a dotted IPv4 address (tutorial 2.3).
 *
 * @param value An integer from 0 to 4294967295.
 * @returns The dotted quad.
 * @throws {RangeError} `ERR_SOCKLAB_INVALID_IPV4` when `value` is not such an integer.
 * @example
 * ```ts
 * import { intToIpv4 } from "@socklab/core";
 * intToIpv4(2130706433); // "127.0.0.1"
 * ```
 */
export function intToIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw invalidArgument(
      "range",
      "ERR_SOCKLAB_INVALID_IPV4",
      `Cannot turn "${value}" into an IPv4 address: expected an integer from 0 to 4294967295`,
    );
  }
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}
