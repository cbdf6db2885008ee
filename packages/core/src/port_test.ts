import { describe, expect, test } from "vitest";
import { _loadServices, parsePort, privilegedPortNote, servicePort } from "./port.ts";

describe("parsePort()", () => {
  test.each([
    ["0", 0],
    ["50000", 50000],
    ["65535", 65535],
    [80, 80],
    ["http", 80],
    ["HTTPS", 443],
    ["ssh", 22],
  ])("reads %s as %i", (text, port) => expect(parsePort(text)).toBe(port));
  test.each(["65536", "70000", "-1", "1.5", "", "0x50", "nosuchservice"])("rejects %j", (text) => {
    expect(() => parsePort(text)).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_INVALID_PORT" }),
    );
  });
  test("rejects 70000 with a message that gives the range", () => {
    expect(() => parsePort("70000")).toThrow(
      'Cannot use port "70000": ports are 0 to 65535 (0 lets the system pick)',
    );
  });
  test("looks service names up per protocol", () => {
    expect(parsePort("domain", "udp")).toBe(53);
  });
});

describe("servicePort()", () => {
  test("reads names and aliases from a services file", () => {
    const map = _loadServices("# comment\nmyproto 4711/tcp myalias # note\nother 99/udp\n");
    expect(map.get("myproto/tcp")).toBe(4711);
    expect(map.get("myalias/tcp")).toBe(4711);
    expect(map.get("other/udp")).toBe(99);
    expect(map.get("http/tcp")).toBe(80); // built-in fallback stays
  });
  test("returns undefined for unknown services", () => {
    expect(servicePort("no-such-service")).toBeUndefined();
  });
});

describe("privilegedPortNote()", () => {
  test("explains ports below the unprivileged start", () => {
    expect(privilegedPortNote(80)).toMatch(/^Port 80 is below \d+: binding it needs root/);
  });
  test("says nothing for 0 and high ports", () => {
    expect(privilegedPortNote(0)).toBeUndefined();
    expect(privilegedPortNote(50000)).toBeUndefined();
  });
});
