/**
 * UNIX datagram sockets (`AF_UNIX`, `SOCK_DGRAM`) for Node, which its `dgram`
 * module lacks: the tutorial's listings 3.10 and 3.11 (section 3.3.5-3.3.6) with
 * safe socket files, named errors, backpressure instead of loss, and stated
 * size limits. Built on socklab's own Node-API addon with batched receive (main thread only).
 *
 * @example
 * ```ts
 * import { bindUnixDgram, openUnixDgram } from "@socklab/unix-dgram";
 * const server = await bindUnixDgram({ path: "/tmp/unixsocket_udp" });
 * const client = await openUnixDgram({ bind: "auto" });
 * await client.send("Hallo Welt!", "/tmp/unixsocket_udp");
 * const { data, from } = await server.receive(); // "Hallo Welt!" from the client's temp path
 * await server.send(data, from);
 * (await client.receive()).data.toString(); // "Hallo Welt!"
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */
export * from "./bind_unix_dgram.ts";
export * from "./check_unix_dgram_path.ts";
export * from "./open_unix_dgram.ts";
export * from "./unix_dgram_limits.ts";
export * from "./unix_dgram_socket.ts";
