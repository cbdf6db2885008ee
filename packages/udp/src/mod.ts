/**
 * UDP sockets for the tutorial's "postcard" (sections 3.3.1 and 3.3.2): bind on
 * IPv4, IPv6 or both (`localhost` is `::1` and `127.0.0.1` on one port), receive
 * whole datagrams by async iteration, send to a name or an address, a connected
 * mode that reports "port unreachable" plainly, size limits checked before
 * sending, a request helper that retries and says what was lost, and counters.
 *
 * @example
 * ```ts
 * import { createUdpSocket } from "@socklab/udp";
 *
 * // Listing 3.4: print one datagram with its sender.
 * const server = await createUdpSocket({ host: "localhost", port: 50000 });
 * for await (const { data, from } of server) {
 *   console.log(`Daten ${data} von ${from.host} ${from.port}`);
 *   break;
 * }
 * await server.close();
 *
 * // Listing 3.5: send eighteen 1s.
 * const client = await createUdpSocket({ connect: "localhost:50000" });
 * await client.send("1".repeat(18));
 * await client.close();
 * ```
 *
 * @module
 */
export * from "./datagram_size.ts";
export * from "./kernel_drops.ts";
export * from "./udp_socket.ts";
