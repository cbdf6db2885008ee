/**
 * Relaying bytes, as `socat` and `nc` do: {@linkcode copyBothWays} copies between
 * two ends (connections, stdin and stdout) with backpressure and a half-close
 * per direction; {@linkcode relayStreams} and {@linkcode relayDatagrams} listen on
 * one address and, for each client or sender, open another and relay between
 * them. Any address of the core grammar works: `tcp://`, `unix://`, `udp://`,
 * `unixgram://`. {@linkcode copyToProcess} gives a client its own program instead
 * (`socat EXEC:`, `ncat -e`), with argv from {@linkcode splitCommand}.
 *
 * @example
 * ```ts
 * import { parseAddress } from "@socklab/core";
 * import { relayStreams } from "@socklab/relay";
 * const relay = await relayStreams(parseAddress("tcp://127.0.0.1:0"), parseAddress("unix:///tmp/s"));
 * relay.on("close", (session) => console.log(session.client, session.counts));
 * await relay.close();
 * ```
 *
 * @module
 */
export * from "./copy_both_ways.ts";
export * from "./datagram_address.ts";
export * from "./process_end.ts";
export * from "./relay_datagrams.ts";
export * from "./relay_streams.ts";
export * from "./split_command.ts";
export * from "./stdio_datagrams.ts";
export * from "./stream_address.ts";
export * from "./stream_ends.ts";
export * from "./throwaway_certificate.ts";
export * from "./tls_stream.ts";
