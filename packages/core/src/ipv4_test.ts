import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { intToIpv4, ipv4ToInt } from "./ipv4.ts";

describe("ipv4ToInt() / intToIpv4()", () => {
  test.each([
    ["127.0.0.1", 2130706433],
    ["0.0.0.0", 0],
    ["255.255.255.255", 4294967295],
    ["10.1.2.3", 167838211],
  ])("%s is %i", (dotted, n) => {
    expect(ipv4ToInt(dotted)).toBe(n);
    expect(intToIpv4(n)).toBe(dotted);
  });
  test("ipv4ToInt() rejects what is not a dotted quad", () => {
    for (const bad of ["256.0.0.1", "1.2.3", "::1", "localhost", ""]) {
      expect(() => ipv4ToInt(bad)).toThrow(
        expect.objectContaining({ code: "ERR_SOCKLAB_INVALID_IPV4" }),
      );
    }
  });
  test("intToIpv4() rejects numbers outside 32 bits", () => {
    for (const bad of [-1, 2 ** 32, 1.5, Number.NaN])
      expect(() => intToIpv4(bad)).toThrow(RangeError);
  });
  test("every 32-bit number round-trips", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => ipv4ToInt(intToIpv4(n)) === n),
    );
  });
});
