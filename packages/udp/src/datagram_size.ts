import { DatagramTooLargeError } from "@socklab/core";

/**
 * The largest UDP payload over IPv4: 65,535 (the IPv4 total length field) minus
 * the 20-byte IPv4 header and the 8-byte UDP header.
 */
export const UDP_MAX_PAYLOAD_IPV4 = 65_507;

/**
 * The largest UDP payload over IPv6 without jumbograms: 65,535 (the IPv6 payload
 * length field, which excludes the 40-byte IPv6 header) minus the 8-byte UDP header.
 */
export const UDP_MAX_PAYLOAD_IPV6 = 65_527;

/**
 * The largest payload one UDP datagram can carry over an IP version.
 *
 * @param family 4 or 6.
 * @returns 65,507 for IPv4, 65,527 for IPv6.
 * @example
 * ```ts
 * import { maxUdpPayload } from "@socklab/udp";
 * maxUdpPayload(4); // 65507
 * ```
 */
export function maxUdpPayload(family: 4 | 6): number {
  return family === 6 ? UDP_MAX_PAYLOAD_IPV6 : UDP_MAX_PAYLOAD_IPV4;
}

/**
 * Refuses a payload one UDP datagram cannot carry, before anything is sent: the
 * kernel would fail with a bare `EMSGSIZE`, and a receiver such as the tutorial's
 * `recvfrom(256)` would silently cut what is longer than its buffer.
 *
 * @param size The payload's length in bytes.
 * @param family The IP version the datagram goes out on (an IPv4 peer reached through a dual-stack socket is 4).
 * @throws {DatagramTooLargeError} when `size` is over {@linkcode maxUdpPayload}.
 * @example
 * ```ts
 * import { checkUdpPayload } from "@socklab/udp";
 * checkUdpPayload(65_507, 4); // fine
 * checkUdpPayload(65_508, 4); // throws 'Cannot send 65508 bytes in one UDP/IPv4 datagram: the limit is 65507 bytes'
 * ```
 */
export function checkUdpPayload(size: number, family: 4 | 6): void {
  const limit = family === 6 ? UDP_MAX_PAYLOAD_IPV6 : UDP_MAX_PAYLOAD_IPV4;
  if (size > limit)
    throw new DatagramTooLargeError(size, limit, family === 6 ? "UDP/IPv6" : "UDP/IPv4");
}
