/**
 * Binding the `node:dgram` sockets behind one UdpSocket: one per address a host
 * resolves to (`localhost` → `::1` and `127.0.0.1`), all on the same port.
 *
 * @module
 */
import dgram from "node:dgram";
import {
  bindOnOnePort,
  formatHostPort,
  type IpFamilyChoice,
  type ListenPlan,
  planListen,
  toSocketError,
} from "@socklab/core";

/** Which IP versions a socket uses: only IPv4, only IPv6, or both (the default). */
export type UdpFamily = IpFamilyChoice;

/** One `node:dgram` socket to bind (core's listen plan). */
export type BindPlan = ListenPlan;

/** Settings for the `node:dgram` sockets. */
export interface SocketSettings {
  recvBufferSize: number;
  sendBufferSize: number;
}

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
 * Which sockets a host needs (core's {@linkcode planListen}): `""` and `::` one
 * dual-stack socket, `0.0.0.0` one IPv4 socket, names and literals one socket per address.
 *
 * @param host The host to bind.
 * @param family Which IP versions.
 * @returns The plans, in the order to bind them.
 */
export function bindPlans(host: string, family: UdpFamily): Promise<BindPlan[]> {
  return planListen(host, family);
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
 * Binds every plan on one port (core's {@linkcode bindOnOnePort}: with port 0
 * the first socket picks it, the others take the same, and all start over if it
 * is taken on another address).
 *
 * @param plans What to bind.
 * @param port The port.
 * @param settings Buffer sizes.
 * @returns The bound sockets, in the order of the plans.
 */
export function bindAll(
  plans: readonly BindPlan[],
  port: number,
  settings: SocketSettings,
): Promise<dgram.Socket[]> {
  return bindOnOnePort(
    plans,
    port,
    async (plan, wanted) => {
      const socket = await bindOne(plan, wanted, settings);
      return { handle: socket, port: socket.address().port };
    },
    (socket) => {
      socket.close();
    },
  );
}
