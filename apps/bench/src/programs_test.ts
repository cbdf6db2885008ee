import { describe, expect, test } from "vitest";
import { PROGRAMS, parseListening } from "./programs.ts";
import { SCENARIOS } from "./scenarios.ts";

describe("parseListening()", () => {
  test.each([
    ["tcp://127.0.0.1:40123", undefined, { host: "127.0.0.1", port: 40123 }],
    ["udp://127.0.0.1:5", undefined, { host: "127.0.0.1", port: 5 }],
    ["tcp://[::1]:50000", undefined, { host: "::1", port: 50000 }],
    ["unix:/tmp/x/echo.sock", "/tmp/x/echo.sock", { path: "/tmp/x/echo.sock" }],
  ])("parseListening(%s) reads the address", (uri, path, expected) => {
    expect(parseListening(uri, path)).toEqual(expected);
  });

  test("parseListening() refuses a URI it cannot read without a path", () => {
    expect(() => parseListening("unix:/tmp/x.sock")).toThrow(/Cannot read the address/);
  });
});

describe("the catalog", () => {
  test("every scenario names known programs, its reference among its peers, and a socklab server", () => {
    for (const scenario of SCENARIOS) {
      for (const id of [...scenario.peers, ...scenario.socklab]) expect(PROGRAMS[id]).toBeDefined();
      expect(scenario.peers).toContain(scenario.reference);
      expect(scenario.socklab.every((id) => PROGRAMS[id].socklab)).toBe(true);
      expect(scenario.peers.some((id) => PROGRAMS[id].socklab)).toBe(false);
    }
  });

  test("scenario ids are unique", () => {
    const ids = SCENARIOS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
