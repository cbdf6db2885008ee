import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";
import { AddressError } from "./errors.ts";
import { hostKind } from "./host.ts";
import { explainErrorCode } from "./system_error.ts";

/** One address a host resolves to. */
export interface ResolvedAddress {
  /** A literal IPv4 or IPv6 address. */
  address: string;
  /** 4 or 6. */
  family: 4 | 6;
}

/** Options for {@linkcode resolveHost}. */
export interface ResolveHostOptions {
  /** Only addresses of this family. */
  family?: 4 | 6;
}

/**
 * Whether this machine has IPv6 loopback (`::1`) configured.
 *
 * @returns `true` when an interface carries `::1`.
 * @example
 * ```ts
 * import { hasIpv6Loopback } from "@socklab/core";
 * hasIpv6Loopback(); // true on most Linux machines
 * ```
 */
export function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((list) =>
    list?.some((i) => i.family === "IPv6" && i.address === "::1"),
  );
}

/**
 * Resolves a host to every address it has, in the order to try them.
 * `localhost` and `*.localhost` always mean loopback (RFC 6761): `::1` (when the
 * machine has IPv6) and `127.0.0.1`, whatever `/etc/hosts` lists. The empty host
 * means all interfaces: one dual-stack `::` (or `0.0.0.0` without IPv6); literals resolve to themselves.
 *
 * @param host A host name, an IP literal or `""`.
 * @param options Restrict to one family.
 * @returns At least one address.
 * @throws {AddressError} `ERR_SOCKLAB_UNRESOLVABLE` when the name has no address.
 * @example
 * ```ts
 * import { resolveHost } from "@socklab/core";
 * await resolveHost("localhost"); // [{ address: "::1", family: 6 }, { address: "127.0.0.1", family: 4 }]
 * ```
 */
export async function resolveHost(
  host: string,
  options: ResolveHostOptions = {},
): Promise<ResolvedAddress[]> {
  const kind = hostKind(host);
  let found: ResolvedAddress[];
  if (kind === "ipv4") found = [{ address: host, family: 4 }];
  else if (kind === "ipv6") found = [{ address: host, family: 6 }];
  // One dual-stack "::" socket covers IPv4 too; binding "0.0.0.0" beside it would clash.
  else if (kind === "any")
    found = [hasIpv6Loopback() ? { address: "::", family: 6 } : { address: "0.0.0.0", family: 4 }];
  else if (/(^|\.)localhost\.?$/i.test(host)) found = both("::1", "127.0.0.1");
  else {
    try {
      const list = await lookup(host, { all: true, order: "verbatim" });
      found = list.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? "ENOTFOUND";
      throw new AddressError(`Cannot resolve "${host}": ${explainErrorCode(code)}`, {
        code: "ERR_SOCKLAB_UNRESOLVABLE",
        cause: err,
      });
    }
  }
  const wanted =
    options.family === undefined ? found : found.filter((a) => a.family === options.family);
  if (wanted.length === 0) {
    throw new AddressError(`Cannot resolve "${host}": it has no IPv${options.family} address`, {
      code: "ERR_SOCKLAB_UNRESOLVABLE",
    });
  }
  return wanted;
}

function both(v6: string, v4: string): ResolvedAddress[] {
  return hasIpv6Loopback()
    ? [
        { address: v6, family: 6 },
        { address: v4, family: 4 },
      ]
    : [{ address: v4, family: 4 }];
}
