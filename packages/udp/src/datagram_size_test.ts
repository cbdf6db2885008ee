import { DatagramTooLargeError } from "@socklab/core";
import { describe, expect, test } from "vitest";
import {
  checkUdpPayload,
  maxUdpPayload,
  UDP_MAX_PAYLOAD_IPV4,
  UDP_MAX_PAYLOAD_IPV6,
} from "./datagram_size.ts";

describe("UDP payload limits", () => {
  test("are 65,535 minus the IP and UDP headers", () => {
    expect(UDP_MAX_PAYLOAD_IPV4).toBe(65_535 - 20 - 8);
    expect(UDP_MAX_PAYLOAD_IPV6).toBe(65_535 - 8);
    expect(maxUdpPayload(4)).toBe(65_507);
    expect(maxUdpPayload(6)).toBe(65_527);
  });

  test.each([
    [0, 4],
    [65_507, 4],
    [65_527, 6],
  ] as const)("checkUdpPayload() accepts %i bytes over IPv%i", (size, family) => {
    expect(() => checkUdpPayload(size, family)).not.toThrow();
  });

  test.each([
    [65_508, 4, "Cannot send 65508 bytes in one UDP/IPv4 datagram: the limit is 65507 bytes"],
    [65_528, 6, "Cannot send 65528 bytes in one UDP/IPv6 datagram: the limit is 65527 bytes"],
    [100_000, 4, "Cannot send 100000 bytes in one UDP/IPv4 datagram: the limit is 65507 bytes"],
  ] as const)("checkUdpPayload() refuses %i bytes over IPv%i", (size, family, message) => {
    let caught: unknown;
    try {
      checkUdpPayload(size, family);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DatagramTooLargeError);
    expect(caught).toMatchObject({
      message,
      code: "ERR_SOCKLAB_DATAGRAM_TOO_LARGE",
      size,
      limit: maxUdpPayload(family),
    });
  });
});
