/**
 * Binding the `node:dgram` sockets behind one UdpSocket: one per address a host
 * resolves to (`localhost` → `::1` and `127.0.0.1`), all on the same port.
 *
 * @module
 */
import dgram from "node:dgram";
import {
  formatHostPort,
  hasIpv6Loopback,
  hostKind,
  invalidArgument,
  isWildcardHost,
  type ResolvedAddress,
  resolveHost,
  SocklabError,
  toSocketError,
} from "@socklab/core";

/** Which IP versions a socket uses: only IPv4, only IPv6, or both (the default). */
export type UdpFamily = "ipv4" | "ipv6" | "dual";

/** One `node:dgram` socket to bind. */
export interface BindPlan {
  /** A literal address, `0.0.0.0` or `::`. */
  address: string;
  family: 4 | 6;
  /** An IPv6 wildcard socket that also carries IPv4 (as `::ffff:a.b.c.d`). */
  dual: boolean;
}

/** Settings for the `node:dgram` sockets. */
export interface SocketSettings {
  recvBufferSize: number;
  sendBufferSize: number;
}

/** How often a port picked for the first address is tried on the others before starting over. */
const PORT_ZERO_ATTEMPTS = 8;

/**
 * Node's `dgram` looks up every destination, even a literal, through
 * `dns.lookup` and a `process.nextTick`. socklab resolves names itself and
 * hands `dgram` literals only, so it answers at once (only IPv6 literals hold a colon).
 */
function literalLookup(
  address: string,
  _family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(":") ? 6 : 4);
}

/**
 * Creates an unbound `node:dgram` socket for a family.
 *
 * @param family 4 or 6.
 * @param ipv6Only For IPv6: refuse IPv4-mapped traffic.
 * @returns The socket.
 */
export function createDgram(family: 4 | 6, ipv6Only: boolean): dgram.Socket {
  return dgram.createSocket({
    type: family === 6 ? "udp6" : "udp4",
    ...(family === 6 ? { ipv6Only } : {}),
    lookup: literalLookup as unknown as NonNullable<dgram.SocketOptions["lookup"]>,
  });
}

/**
 * Which sockets a host needs: `""` and `::` one dual-stack socket (or one per
 * family when a family is asked for), `0.0.0.0` one IPv4 socket, names and
 * literals one socket per address.
 *
 * @param host The host to bind.
 * @param family Which IP versions.
 * @returns The plans, in the order to bind them.
 */
export async function bindPlans(host: string, family: UdpFamily): Promise<BindPlan[]> {
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
  const found: ResolvedAddress[] = await resolveHost(
    host,
    family === "ipv4" ? { family: 4 } : family === "ipv6" ? { family: 6 } : {},
  );
  const seen = new Set<string>();
  const plans: BindPlan[] = [];
  for (const r of found) {
    if (seen.has(r.address)) continue;
    seen.add(r.address);
    plans.push({ address: r.address, family: r.family, dual: false });
  }
  return plans;
}

/**
 * Binds one socket; rejects with a one-line socklab error.
 *
 * @param plan What to bind.
 * @param port The port (0: the system picks).
 * @param settings Buffer sizes.
 * @returns The bound socket.
 */
export function bindOne(
  plan: BindPlan,
  port: number,
  settings: SocketSettings,
): Promise<dgram.Socket> {
  const socket = createDgram(plan.family, !plan.dual);
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off("listening", onListening);
      socket.close();
      reject(
        toSocketError(err, { action: "bind", address: formatHostPort(plan.address, port), port }),
      );
    };
    const onListening = (): void => {
      socket.off("error", onError);
      // Until its owner listens, an error event must not crash the process.
      socket.on("error", ignore);
      applyBufferSizes(socket, settings);
      resolve(socket);
    };
    socket.once("error", onError);
    socket.once("listening", onListening);
    socket.bind({ address: plan.address, port, exclusive: true });
  });
}

function ignore(): void {}

/** A larger receive buffer lets bursts wait in the kernel instead of being lost; the kernel caps it (net.core.rmem_max). */
function applyBufferSizes(socket: dgram.Socket, settings: SocketSettings): void {
  try {
    if (settings.recvBufferSize > 0) socket.setRecvBufferSize(settings.recvBufferSize);
    if (settings.sendBufferSize > 0) socket.setSendBufferSize(settings.sendBufferSize);
  } catch {
    // Best effort: the system default still works.
  }
}

/**
 * Binds every plan on one port. With port 0 the first socket picks it and the
 * others take the same; if that port is taken on another address, all start
 * over with a new one, a few times.
 *
 * @param plans What to bind.
 * @param port The port.
 * @param settings Buffer sizes.
 * @returns The bound sockets, in the order of the plans.
 */
export async function bindAll(
  plans: readonly BindPlan[],
  port: number,
  settings: SocketSettings,
): Promise<dgram.Socket[]> {
  for (let attempt = 1; ; attempt++) {
    const bound: dgram.Socket[] = [];
    let shared = port;
    try {
      for (const plan of plans) {
        const socket = await bindOne(plan, shared, settings);
        bound.push(socket);
        shared = socket.address().port;
      }
      return bound;
    } catch (err) {
      for (const socket of bound) socket.close();
      const retry = port === 0 && bound.length > 0 && attempt < PORT_ZERO_ATTEMPTS;
      if (!retry || !(err instanceof SocklabError) || err.code !== "EADDRINUSE") throw err;
    }
  }
}
