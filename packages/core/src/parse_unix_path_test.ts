import { describe, expect, test } from "vitest";
import { parseUnixPath } from "./parse_unix_path.ts";
import { UNIX_PATH_MAX } from "./unix_path_limit.ts";

describe("parseUnixPath()", () => {
  test.each([
    ["/tmp/unixsocket_tcp", { path: "/tmp/unixsocket_tcp", abstract: false }],
    ["relative/s", { path: "relative/s", abstract: false }],
    ["./@name", { path: "./@name", abstract: false }],
    ["/tmp/50%20off", { path: "/tmp/50%20off", abstract: false }],
    ["@socklab", { path: "socklab", abstract: true }],
    ["@with space", { path: "with space", abstract: true }],
  ])("reads %j", (text, expected) => {
    expect(parseUnixPath(text)).toEqual(expected);
  });

  test.each(["", "@"])("rejects the empty path %j", (text) => {
    expect(() => parseUnixPath(text)).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_INVALID_PATH" }),
    );
  });

  test("rejects a path over the kernel's limit", () => {
    expect(() => parseUnixPath(`/${"x".repeat(UNIX_PATH_MAX)}`)).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_PATH_TOO_LONG" }),
    );
  });
});
