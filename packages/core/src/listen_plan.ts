import { invalidArgument, SocklabError } from "./errors.ts";
import { hostKind, isWildcardHost } from "./host.ts";
import { hasIpv6Loopback, resolveHost } from "./resolve_host.ts";

/** Which IP versions a server uses: only IPv4, only IPv6, or whatever the host has (the default). */
export type IpFamilyChoice = "ipv4" | "ipv6" | "dual";

/** One socket a server binds for a host. */
export interface ListenPlan {
  /** A literal address, `0.0.0.0` or `::`. */
  address: string;
  family: 4 | 6;
  /** An IPv6 wildcard socket that also carries IPv4 (dual-stack, `IPV6_V6ONLY` off). */
  dual: boolean;
}

/**
 * Which sockets a server needs to listen on a host: `""` and `::` one
 * dual-stack socket (or one per family when a family is asked for), `0.0.0.0`
 * one IPv4 socket, names and literals one socket per address — so `localhost`
 * is served on `::1` and `127.0.0.1`, as browsers and curl try both.
 *
 * @param host The host to listen on.
 * @param family Which IP versions.
 * @returns The plans, in the order to bind them.
 * @throws {AddressError} for a bad or unresolvable host.
 * @example
 * ```ts
 * import { planListen } from "@socklab/core";
 * await planListen("localhost"); // [{ address: "::1", … }, { address: "127.0.0.1", … }]
 * ```
 */
export async function planListen(
  host: string,
  family: IpFamilyChoice = "dual",
): Promise<ListenPlan[]> {
  if (family !== "ipv4" && family !== "ipv6" && family !== "dual") {
    throw invalidArgument(
      "type",
      "ERR_SOCKLAB_INVALID_OPTION",
      `Cannot use family "${String(family)}": expected "ipv4", "ipv6" or "dual"`,
    );
  }
  if (isWildcardHost(host) && host !== "0.0.0.0") {
    if (family === "ipv4") return [{ address: "0.0.0.0", family: 4, dual: false }];
    if (family === "ipv6") return [{ address: "::", family: 6, dual: false }];
    if (host === "" && !hasIpv6Loopback()) return [{ address: "0.0.0.0", family: 4, dual: false }];
    return [{ address: "::", family: 6, dual: true }];
  }
  hostKind(host);
  const found = await resolveHost(
    host,
    family === "ipv4" ? { family: 4 } : family === "ipv6" ? { family: 6 } : {},
  );
  const seen = new Set<string>();
  const plans: ListenPlan[] = [];
  for (const r of found) {
    if (seen.has(r.address)) continue;
    seen.add(r.address);
    plans.push({ address: r.address, family: r.family, dual: false });
  }
  return plans;
}

/** How often a port picked for the first address is tried on the others before starting over. */
const PORT_ZERO_ATTEMPTS = 8;

/**
 * Binds every plan on one port. With port 0 the first socket picks the port and
 * the others take the same; if that port is taken on another address, all are
 * closed and it starts over with a new one, a few times.
 *
 * @param plans What to bind, from {@linkcode planListen}.
 * @param port The port (0: the system picks).
 * @param bind Binds one plan on a port; resolves with the handle and the port it got,
 *   rejects with a socklab error (`EADDRINUSE` for a taken port).
 * @param close Closes a handle bound earlier when a later one fails.
 * @returns The handles, in the order of the plans.
 * @example
 * ```ts
 * import { bindOnOnePort, planListen } from "@socklab/core";
 * import { createServer } from "node:net";
 * const servers = await bindOnOnePort(await planListen("localhost"), 0, (plan, port) =>
 *   new Promise((resolve, reject) => {
 *     const s = createServer().once("error", reject).listen(port, plan.address, () => resolve({ handle: s, port: (s.address() as { port: number }).port }));
 *   }), (s) => new Promise((r) => s.close(() => r())));
 * ```
 */
export async function bindOnOnePort<T>(
  plans: readonly ListenPlan[],
  port: number,
  bind: (plan: ListenPlan, port: number) => Promise<{ handle: T; port: number }>,
  close: (handle: T) => Promise<void> | void,
): Promise<T[]> {
  for (let attempt = 1; ; attempt++) {
    const bound: T[] = [];
    let shared = port;
    try {
      for (const plan of plans) {
        const { handle, port: got } = await bind(plan, shared);
        bound.push(handle);
        shared = got;
      }
      return bound;
    } catch (err) {
      await Promise.all(bound.map((h) => close(h)));
      const retry = port === 0 && bound.length > 0 && attempt < PORT_ZERO_ATTEMPTS;
      const inUse = err instanceof SocklabError && err.code === "EADDRINUSE";
      if (!retry || !inUse) throw err;
    }
  }
}
