import { describe, expect, test } from "vitest";
import { median, summarize } from "./statistics.ts";

describe("median()", () => {
  test.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[7], 7],
    [[5, Number.NaN, 1], 3],
  ])("median(%j) is %d", (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  test("median() of no values is NaN", () => {
    expect(median([])).toBeNaN();
    expect(median([Number.NaN])).toBeNaN();
  });

  test("median() leaves its input unsorted", () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe("summarize()", () => {
  test("summarize() gives median, range and half the range relative to the median", () => {
    expect(summarize([90, 100, 110])).toEqual({
      median: 100,
      min: 90,
      max: 110,
      spread: 0.1,
      count: 3,
    });
  });

  test("summarize() of one value has no spread", () => {
    expect(summarize([42])).toEqual({ median: 42, min: 42, max: 42, spread: 0, count: 1 });
  });

  test("summarize() skips NaN and reports none for no values", () => {
    expect(summarize([Number.NaN, 4, 6]).count).toBe(2);
    const empty = summarize([]);
    expect(empty.count).toBe(0);
    expect(empty.median).toBeNaN();
  });
});
