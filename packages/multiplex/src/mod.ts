/**
 * One event loop for every transport (tutorial 3.4): a {@linkcode Multiplexer}
 * serves TCP, UDP, UNIX stream and UNIX datagram listeners through one handler —
 * {@linkcode echo}, {@linkcode chat}, or your own — with a registry of open
 * connections, per-transport stats, an idle tick, connection limits and a
 * graceful shutdown that removes socket files.
 *
 * @example
 * ```ts
 * import { echo, Multiplexer } from "@socklab/multiplex";
 * const mux = new Multiplexer(echo(), { idleTickMs: 5000 });
 * mux.on("idle", () => console.log(Math.floor(Date.now() / 1000)));
 * await mux.listenTcp({ host: "localhost", port: 50000 });
 * ```
 *
 * @module
 */
export * from "./chat.ts";
export * from "./datagram_endpoints.ts";
export * from "./echo.ts";
export * from "./file_limit.ts";
export * from "./http_or_echo.ts";
export * from "./multiplexer.ts";
export * from "./mux_connection.ts";
