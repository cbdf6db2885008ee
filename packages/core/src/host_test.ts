import { describe, expect, test } from "vitest";
import { hostKind, isWildcardHost } from "./host.ts";

describe("hostKind()", () => {
  test.each([
    ["", "any"],
    ["0.0.0.0", "ipv4"],
    ["127.0.0.1", "ipv4"],
    ["::", "ipv6"],
    ["::1", "ipv6"],
    ["fe80::1%eth0", "ipv6"],
    ["localhost", "name"],
    ["example.org.", "name"],
    ["my_host", "name"],
  ])("%j is %s", (host, kind) => expect(hostKind(host)).toBe(kind));
  test.each([
    "256.1.1.1",
    "1.2.3",
    "exa mple.org",
    "-bad.org",
    "a..b",
    "x".repeat(64),
    "::1::2",
    "ho/st",
  ])("rejects %j", (host) => expect(() => hostKind(host)).toThrow(/^Cannot use host /));
});

describe("isWildcardHost()", () => {
  test("knows the tutorial's empty host, 0.0.0.0 and ::", () => {
    expect(["", "0.0.0.0", "::", "127.0.0.1"].map(isWildcardHost)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});
