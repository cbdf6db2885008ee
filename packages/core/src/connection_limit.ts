/**
 * The one refusal and grace-close policy of socklab's stream servers
 * (`StreamServer` and the multiplexer): past the connection limit a client
 * reads one line and is closed; while shutting down it is closed at once; on
 * close, open connections get a grace period and are then destroyed.
 *
 * @module
 */
import type { Socket } from "node:net";

/** How long a refused client may take to read its refusal and close. */
const REFUSAL_LINGER_MS = 5000;

/**
 * Refuses an accepted socket: writes `message` and ends it (or destroys it when
 * there is nothing to say), reading and dropping what the client sends so its
 * FIN is seen, and destroying it if it lingers.
 *
 * @param socket The socket just accepted.
 * @param message What the client reads, or `undefined` to close at once.
 * @example
 * ```ts
 * import { refuseConnection } from "@socklab/core";
 * server.on("connection", (socket) => refuseConnection(socket, "Server busy\n"));
 * ```
 */
export function refuseConnection(socket: Socket, message: string | Uint8Array | undefined): void {
  socket.on("error", () => {});
  socket.resume();
  socket.setTimeout(REFUSAL_LINGER_MS, () => socket.destroy());
  if (message === undefined) socket.destroy();
  else socket.end(message);
}

/**
 * The refusal line past a connection limit.
 *
 * @param limit The limit.
 * @returns One line, ending in a newline.
 * @example
 * ```ts
 * import { busyMessage } from "@socklab/core";
 * busyMessage(10); // "Server busy: too many connections (limit 10), try again later\n"
 * ```
 */
export function busyMessage(limit: number): string {
  return `Server busy: too many connections (limit ${limit}), try again later\n`;
}

/**
 * Waits up to `graceMs` for every one of `closed` to settle, then calls
 * `destroyRest` once (when any are left) and waits for the rest.
 *
 * @param closed One promise per open connection, settled when it closes.
 * @param graceMs How long they may take.
 * @param destroyRest Destroys the connections still open.
 * @returns When every connection closed.
 * @example
 * ```ts
 * import { closeWithGrace } from "@socklab/core";
 * await closeWithGrace(sockets.map((s) => once(s, "close")), 2000, () => sockets.forEach((s) => s.destroy()));
 * ```
 */
export async function closeWithGrace(
  closed: readonly Promise<unknown>[],
  graceMs: number,
  destroyRest: () => void,
): Promise<void> {
  if (closed.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  await Promise.race([
    Promise.allSettled(closed),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        expired = true;
        resolve();
      }, graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (expired) destroyRest();
  await Promise.allSettled(closed);
}
