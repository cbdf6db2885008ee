/**
 * What every socklab transport shares: the address model (`tcp://`, `udp://`,
 * `unix://`, `unixgram://`), host and port checks, one server-socket lifecycle
 * (socket files born with their mode, stale ones replaced, only our own removed), bytes and text helpers, the stream-connection API used by TCP and
 * UNIX stream sockets, and the error hierarchy with one-line messages.
 *
 * @example
 * ```ts
 * import { formatAddress, parseAddress } from "@socklab/core";
 * formatAddress(parseAddress("udp://[::1]:53")); // "udp://[::1]:53"
 * ```
 *
 * @module
 */
export * from "./address.ts";
export * from "./bytes_repr.ts";
export * from "./connection_limit.ts";
export * from "./display_bytes.ts";
export * from "./drop_report.ts";
export * from "./duration.ts";
export * from "./encoding.ts";
export * from "./errors.ts";
export * from "./escapes.ts";
export * from "./format_address.ts";
export * from "./hexdump.ts";
export * from "./host.ts";
export * from "./ipv4.ts";
export * from "./line_splitter.ts";
export * from "./listen_plan.ts";
export * from "./parse_address.ts";
export * from "./parse_unix_path.ts";
export { parsePort, privilegedPortNote, servicePort, unprivilegedPortStart } from "./port.ts";
export * from "./resolve_host.ts";
export * from "./server_socket.ts";
export * from "./socket_file.ts";
export * from "./stale_socket_file.ts";
export * from "./stream_connection.ts";
export * from "./stream_decoder.ts";
export * from "./stream_server.ts";
export * from "./system_error.ts";
export * from "./traffic_dump.ts";
export * from "./unix_path.ts";
export * from "./unix_path_limit.ts";
