import { describe, expect, test } from "vitest";
import { parseDuration } from "./duration.ts";

describe("parseDuration()", () => {
  test.each([
    ["2", 2000],
    ["0.5", 500],
    [".25", 250],
    ["0", 0],
    ["500ms", 500],
    ["2s", 2000],
    ["1.5s", 1500],
    ["1m", 60_000],
    ["1h", 3_600_000],
    [" 3s ", 3000],
  ])("parseDuration() reads %j as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["", "soon", "-1", "1x", "1 s", "1e3", "25d", "1000h"])(
    "parseDuration() rejects %j with a one-line RangeError",
    (text) => {
      let caught: unknown;
      try {
        parseDuration(text, "--idle-timeout");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RangeError);
      expect(caught).toMatchObject({
        code: "ERR_SOCKLAB_INVALID_DURATION",
        message: `Cannot use --idle-timeout "${text}": expected seconds or a duration such as 500ms, 2s or 1m (at most 24 days)`,
      });
    },
  );
});
