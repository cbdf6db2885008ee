import { servicePort } from "@socklab/core";
import { describe, expect, test } from "vitest";
import { parsePortList } from "./parse_port_list.ts";

describe("parsePortList()", () => {
  test.each([
    ["80", [80]],
    ["20-23,80,443", [20, 21, 22, 23, 80, 443]],
    [" 443 , 80 ", [443, 80]],
    ["80,http,80", [80]],
    ["1-5,3-7", [1, 2, 3, 4, 5, 6, 7]],
    ["9,1-3", [9, 1, 2, 3]],
    ["7-7", [7]],
    ["65535", [65535]],
    ["https", [443]],
    ["ssh-telnet", [22, 23]],
    ["20-22,80,https,22", [20, 21, 22, 80, 443]],
  ])("reads %j as %j", (text, ports) => {
    expect(parsePortList(text)).toEqual(ports);
  });

  test("reads a hyphenated service name as one port, not a range", () => {
    expect(parsePortList("http-alt")).toEqual([servicePort("http-alt")]);
  });

  test("looks service names up for udp when asked", () => {
    expect(parsePortList("domain", { protocol: "udp" })).toEqual([53]);
  });

  test("keeps every port of 1-65535", () => {
    const ports = parsePortList("1-65535");
    expect(ports.length).toBe(65535);
    expect(ports[0]).toBe(1);
    expect(ports.at(-1)).toBe(65535);
  });

  test.each([
    [
      "",
      'Cannot use ports "": expected ports, ranges or service names separated by commas, such as 20-30,80,443',
    ],
    [
      "80,",
      'Cannot use ports "80,": expected ports, ranges or service names separated by commas, such as 20-30,80,443',
    ],
    [
      "-80",
      'Cannot use ports "-80": expected ports, ranges or service names separated by commas, such as 20-30,80,443',
    ],
    ["0", 'Cannot use port "0": ports to scan are 1 to 65535'],
    ["70000", 'Cannot use port "70000": ports to scan are 1 to 65535'],
    ["1-65536", 'Cannot use port "65536": ports to scan are 1 to 65535'],
    ["30-20", 'Cannot use ports "30-20": the range goes backwards (30 > 20)'],
    ["1-2-3", 'Cannot use port "1-2-3": expected a number from 1 to 65535 or a service name'],
    [
      "no-such-service-x",
      'Cannot use port "no-such-service-x": no such tcp service in /etc/services',
    ],
    ["8.0", 'Cannot use port "8.0": expected a number from 1 to 65535 or a service name'],
    ["1e3", 'Cannot use port "1e3": expected a number from 1 to 65535 or a service name'],
  ])("rejects %j with a one-line RangeError", (text, message) => {
    expect(() => parsePortList(text)).toThrow(
      expect.objectContaining({
        name: "RangeError",
        code: "ERR_SOCKLAB_INVALID_PORT_LIST",
        message,
      }),
    );
  });

  test("rejects more ports than the limit", () => {
    expect(() => parsePortList("1-101", { limit: 100 })).toThrow(
      'Cannot use ports "1-101": more than 100 ports',
    );
    expect(parsePortList("1-100,50", { limit: 100 }).length).toBe(100);
  });

  test("rejects more than 1000 items, which bounds the work of parsing", () => {
    const text = Array.from({ length: 1001 }, () => "1-65535").join(",");
    expect(() => parsePortList(text)).toThrow(/at most 1000 items$/);
  });
});
