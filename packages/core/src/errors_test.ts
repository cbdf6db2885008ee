import { describe, expect, test } from "vitest";
import { invalidArgument, isUserFacingError, SocklabError } from "./errors.ts";

describe("errors", () => {
  test("invalidArgument() builds a RangeError with a stable code", () => {
    const err = invalidArgument("range", "ERR_SOCKLAB_INVALID_PORT", 'Cannot use port "70000"');
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe("ERR_SOCKLAB_INVALID_PORT");
    expect(isUserFacingError(err)).toBe(true);
  });
  test("isUserFacingError() tells a bug from a known error", () => {
    expect(isUserFacingError(new SocklabError("Cannot do it"))).toBe(true);
    expect(isUserFacingError(new Error("bug"))).toBe(false);
    expect(isUserFacingError(new TypeError("x"))).toBe(false);
  });
});
