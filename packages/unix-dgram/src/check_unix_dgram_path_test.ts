import { describe, expect, test } from "vitest";
import { checkUnixDgramPath } from "./check_unix_dgram_path.ts";

describe("checkUnixDgramPath()", () => {
  test("accepts the tutorial's path and a path of exactly 107 bytes", () => {
    expect(() => checkUnixDgramPath("/tmp/unixsocket_udp")).not.toThrow();
    expect(() => checkUnixDgramPath(`/${"a".repeat(106)}`)).not.toThrow();
  });

  test.each([
    [
      "a 108-byte path (the binding would cut it)",
      `/${"a".repeat(107)}`,
      false,
      "ERR_SOCKLAB_PATH_TOO_LONG",
    ],
    ["an empty path", "", false, "ERR_SOCKLAB_INVALID_PATH"],
    ["a NUL byte (an abstract name in disguise)", "\0name", false, "ERR_SOCKLAB_INVALID_PATH"],
    ["an abstract name", "name", true, "ERR_SOCKLAB_UNSUPPORTED"],
  ])("rejects %s", (_what, path, abstract, code) => {
    expect(() => checkUnixDgramPath(path, abstract)).toThrow(expect.objectContaining({ code }));
  });

  test("names the abstract name in its message", () => {
    expect(() => checkUnixDgramPath("name", true)).toThrow(
      'Cannot use abstract name "@name": this package does not support Linux abstract sockets yet; use a socket path',
    );
  });
});
