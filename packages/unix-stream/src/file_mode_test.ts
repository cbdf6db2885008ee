import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkFileMode, formatFileMode, parseFileMode } from "./file_mode.ts";

describe("parseFileMode()", () => {
  test.each([
    ["600", 0o600],
    ["0600", 0o600],
    ["0o600", 0o600],
    ["0O660", 0o660],
    ["660", 0o660],
    ["777", 0o777],
    ["0", 0],
    [" 644 ", 0o644],
  ])("reads %j as octal", (text, mode) => {
    expect(parseFileMode(text)).toBe(mode);
  });

  test.each(["", "999", "0x180", "1777", "rw-------", "6 00", "-600", "0o", "00000"])(
    "rejects %j",
    (text) => {
      expect(() => parseFileMode(text)).toThrow(
        expect.objectContaining({ name: "RangeError", code: "ERR_SOCKLAB_INVALID_MODE" }),
      );
    },
  );

  test("rejects 999 with one line that shows the accepted forms", () => {
    expect(() => parseFileMode("999")).toThrow(
      'Cannot use mode "999": expected octal permission bits such as 600, 0660 or 0o600',
    );
  });

  test("reads back what formatFileMode() writes, for every mode", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0o777 }), (mode) => {
        expect(parseFileMode(formatFileMode(mode))).toBe(mode);
      }),
    );
  });
});

describe("formatFileMode() and checkFileMode()", () => {
  test("formatFileMode() writes four octal digits", () => {
    expect(formatFileMode(0o600)).toBe("0600");
    expect(formatFileMode(0o7)).toBe("0007");
  });

  test.each([-1, 0o1000, 1.5, Number.NaN])("checkFileMode() rejects %d", (mode) => {
    expect(() => checkFileMode(mode)).toThrow(
      expect.objectContaining({ code: "ERR_SOCKLAB_INVALID_MODE" }),
    );
  });
});
