import { describe, expect, test } from "vitest";
import { dropLine } from "./drop_report.ts";

describe("dropLine()", () => {
  test.each([
    [{ dropped: 1, failed: 0 }, "Dropped 1 reply (a receiver is not reading: at most 64 wait)"],
    [
      { dropped: 4211, failed: 2 },
      'Dropped 4211 replies (a receiver is not reading: at most 64 wait), 2 failed: Cannot send to "/tmp/c": connection refused',
    ],
    [{ dropped: 0, failed: 1 }, '1 reply failed: Cannot send to "/tmp/c": connection refused'],
    [{ dropped: 0, failed: 0 }, "Replies flow again (9 dropped since start)"],
  ])("%o → %s", (growth, line) => {
    const error = new Error('Cannot send to "/tmp/c": connection refused');
    expect(
      dropLine(growth, 64, growth.failed > 0 ? error : undefined, { dropped: 9, failed: 3 }),
    ).toBe(line);
  });
});
