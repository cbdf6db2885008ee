import { isIPv4, isIPv6 } from "node:net";
import { AddressError } from "./errors.ts";

/** What kind of host a host string is. */
export type HostKind = "any" | "ipv4" | "ipv6" | "name";

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/**
 * Whether a host means "all interfaces": `""` (the tutorial's empty string), `0.0.0.0` or `::`.
 *
 * @param host A host string.
 * @returns `true` for the wildcard hosts.
 * @example
 * ```ts
 * import { isWildcardHost } from "@socklab/core";
 * isWildcardHost(""); // true
 * ```
 */
export function isWildcardHost(host: string): boolean {
  return host === "" || host === "0.0.0.0" || host === "::";
}

/**
 * Classifies a host and checks it: an IPv4 or IPv6 literal (zone ids allowed,
 * `fe80::1%eth0`), a valid host name (RFC 1123 labels; `_` is tolerated as many
 * resolvers do), or the empty host for all interfaces.
 *
 * @param host The host, IPv6 without brackets.
 * @returns Its kind; `""` is `"any"`, `0.0.0.0` is `"ipv4"`, `::` is `"ipv6"`.
 * @throws {AddressError} when the host is none of these.
 * @example
 * ```ts
 * import { hostKind } from "@socklab/core";
 * hostKind("::1"); // "ipv6"
 * hostKind("localhost"); // "name"
 * ```
 */
export function hostKind(host: string): HostKind {
  if (host === "") return "any";
  if (isIPv4(host)) return "ipv4";
  if (isIPv6(host)) return "ipv6";
  const problem = hostNameProblem(host);
  if (problem !== undefined) {
    throw new AddressError(`Cannot use host "${host}": ${problem}`);
  }
  return "name";
}

function hostNameProblem(host: string): string | undefined {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length === 0) return "a host name cannot be empty";
  if (name.length > 253) return "a host name has at most 253 characters";
  if (/^[0-9.]+$/.test(name))
    return "not a valid IPv4 address (four numbers 0 to 255 separated by dots)";
  if (name.includes(":")) return "not a valid IPv6 address";
  for (const label of name.split(".")) {
    if (label.length === 0) return 'a host name cannot contain empty labels ("..")';
    if (label.length > 63) return `the label "${label}" is longer than 63 characters`;
    if (!LABEL.test(label)) {
      return `the label "${label}" may only hold letters, digits and inner hyphens`;
    }
  }
  return undefined;
}
