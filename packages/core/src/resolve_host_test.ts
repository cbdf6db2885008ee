import { describe, expect, test } from "vitest";
import { hasIpv6Loopback, resolveHost } from "./resolve_host.ts";

describe("resolveHost()", () => {
  test("localhost resolves to every loopback address", async () => {
    const expected = hasIpv6Loopback()
      ? [
          { address: "::1", family: 6 },
          { address: "127.0.0.1", family: 4 },
        ]
      : [{ address: "127.0.0.1", family: 4 }];
    expect(await resolveHost("localhost")).toEqual(expected);
  });
  test("a family filter keeps only that family", async () => {
    expect(await resolveHost("localhost", { family: 4 })).toEqual([
      { address: "127.0.0.1", family: 4 },
    ]);
  });
  test("literals resolve to themselves", async () => {
    expect(await resolveHost("10.0.0.1")).toEqual([{ address: "10.0.0.1", family: 4 }]);
    expect(await resolveHost("::1")).toEqual([{ address: "::1", family: 6 }]);
  });
  test("the empty host means all interfaces", async () => {
    const [any] = await resolveHost("");
    expect(["::", "0.0.0.0"]).toContain(any?.address);
  });
  test("a name that does not resolve gives one clear line", async () => {
    await expect(resolveHost("no-such-host.invalid")).rejects.toMatchObject({
      code: "ERR_SOCKLAB_UNRESOLVABLE",
      message: expect.stringMatching(
        /^Cannot resolve "no-such-host.invalid": name (does not resolve|resolution failed)/,
      ),
    });
  });
  test("asking for a family the host lacks is a clear error", async () => {
    await expect(resolveHost("127.0.0.1", { family: 6 })).rejects.toThrow(
      'Cannot resolve "127.0.0.1": it has no IPv6 address',
    );
  });
});
