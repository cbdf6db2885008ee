import { describe, expect, test } from "vitest";
import { checkUnixDgramPath } from "./check_unix_dgram_path.ts";

describe("checkUnixDgramPath()", () => {
  test("accepts the tutorial's path and a path of exactly 107 bytes", () => {
    expect(() => checkUnixDgramPath("/tmp/unixsocket_udp")).not.toThrow();
    expect(() => checkUnixDgramPath(`/${"a".repeat(106)}`)).not.toThrow();
  });

  test.each([
    [
      "a 108-byte path (the kernel cannot take it)",
      `/${"a".repeat(107)}`,
      false,
      "ERR_SOCKLAB_PATH_TOO_LONG",
    ],
    ["an empty path", "", false, "ERR_SOCKLAB_INVALID_PATH"],
    ["a NUL byte (an abstract name in disguise)", "\0name", false, "ERR_SOCKLAB_INVALID_PATH"],
    ["a 108-byte abstract name", "x".repeat(108), true, "ERR_SOCKLAB_PATH_TOO_LONG"],
    ["a 108-byte @name", `@${"x".repeat(108)}`, false, "ERR_SOCKLAB_PATH_TOO_LONG"],
  ])("rejects %s", (_what, path, abstract, code) => {
    expect(() => checkUnixDgramPath(path, abstract)).toThrow(expect.objectContaining({ code }));
  });

  test("accepts Linux abstract names, as name with abstract or as @name", () => {
    expect(() => checkUnixDgramPath("name", true)).not.toThrow();
    expect(() => checkUnixDgramPath("@name")).not.toThrow();
    expect(() => checkUnixDgramPath("x".repeat(107), true)).not.toThrow();
  });
});
