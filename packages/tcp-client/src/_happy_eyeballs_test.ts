import type { ResolvedAddress } from "@socklab/core";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { type Attempt, interleaveFamilies, raceAttempts } from "./_happy_eyeballs.ts";

const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const LOCALHOST = [v6("::1"), v4("127.0.0.1")];

/** A fake attempt the test settles by hand. */
interface FakeAttempt extends Attempt<string> {
  target: ResolvedAddress;
  succeed(): void;
  fail(code: string): void;
  cancelled: boolean;
}

function fakeDialer() {
  const started: FakeAttempt[] = [];
  const dial = (target: ResolvedAddress): Attempt<string> => {
    let resolve!: (v: string) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<string>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const attempt: FakeAttempt = {
      target,
      promise,
      cancelled: false,
      cancel() {
        attempt.cancelled = true;
      },
      succeed: () => resolve(`socket to ${target.address}`),
      fail: (code) => reject(Object.assign(new Error(code), { code })),
    };
    started.push(attempt);
    return attempt;
  };
  return { dial, started };
}

describe("interleaveFamilies()", () => {
  test.each([
    [[], []],
    [LOCALHOST, ["::1", "127.0.0.1"]],
    [
      [v6("a::1"), v6("a::2"), v4("1.1.1.1"), v4("1.1.1.2")],
      ["a::1", "1.1.1.1", "a::2", "1.1.1.2"],
    ],
    [
      [v4("1.1.1.1"), v4("1.1.1.2"), v4("1.1.1.3"), v6("a::1")],
      ["1.1.1.1", "a::1", "1.1.1.2", "1.1.1.3"],
    ],
  ])("interleaveFamilies(%j) → %j", (input, expected) => {
    expect(interleaveFamilies(input).map((a) => a.address)).toEqual(expected);
  });
});

describe("raceAttempts()", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("raceAttempts() starts the next address only after the delay while the first waits", async () => {
    const { dial, started } = fakeDialer();
    const race = raceAttempts(LOCALHOST, dial, { delayMs: 250 });
    expect(started.map((a) => a.target.address)).toEqual(["::1"]);
    await vi.advanceTimersByTimeAsync(249);
    expect(started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(started.map((a) => a.target.address)).toEqual(["::1", "127.0.0.1"]);
    started[1]!.succeed();
    const result = await race;
    expect(result).toMatchObject({ ok: true, value: "socket to 127.0.0.1" });
    expect(started[0]!.cancelled).toBe(true);
    expect(started[1]!.cancelled).toBe(false);
  });

  test("raceAttempts() starts the next address at once when an attempt fails", async () => {
    const { dial, started } = fakeDialer();
    const race = raceAttempts(LOCALHOST, dial, { delayMs: 250 });
    started[0]!.fail("ECONNREFUSED");
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toHaveLength(2);
    started[1]!.succeed();
    const result = await race;
    expect(result.ok).toBe(true);
    expect(result.failures.map((f) => f.target.address)).toEqual(["::1"]);
  });

  test("raceAttempts() lets the first address win when it connects before the delay", async () => {
    const { dial, started } = fakeDialer();
    const race = raceAttempts(LOCALHOST, dial, { delayMs: 250 });
    started[0]!.succeed();
    expect(await race).toMatchObject({ ok: true, value: "socket to ::1" });
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toHaveLength(1);
  });

  test("raceAttempts() reports every failure, in order, when all fail", async () => {
    const { dial, started } = fakeDialer();
    const targets = [v6("a::1"), v4("1.1.1.1"), v6("a::2")];
    const race = raceAttempts(targets, dial, { delayMs: 250 });
    await vi.advanceTimersByTimeAsync(500);
    expect(started).toHaveLength(3);
    started[2]!.fail("ECONNREFUSED");
    started[0]!.fail("ENETUNREACH");
    started[1]!.fail("ETIMEDOUT");
    const result = await race;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.aborted).toBe(false);
    expect(result.started).toEqual(targets);
    expect(result.failures.map((f) => (f.error as { code: string }).code)).toEqual([
      "ECONNREFUSED",
      "ENETUNREACH",
      "ETIMEDOUT",
    ]);
  });

  test("raceAttempts() cancels every pending attempt when the signal aborts", async () => {
    const { dial, started } = fakeDialer();
    const controller = new AbortController();
    const race = raceAttempts(LOCALHOST, dial, { delayMs: 250, signal: controller.signal });
    await vi.advanceTimersByTimeAsync(300);
    controller.abort();
    const result = await race;
    expect(result).toMatchObject({ ok: false, aborted: true });
    expect(started.map((a) => a.cancelled)).toEqual([true, true]);
  });

  test("raceAttempts() closes a connection that comes in after the winner", async () => {
    const { dial, started } = fakeDialer();
    const race = raceAttempts(LOCALHOST, dial, { delayMs: 250 });
    await vi.advanceTimersByTimeAsync(250);
    started[1]!.succeed();
    started[0]!.succeed();
    await race;
    await vi.advanceTimersByTimeAsync(0);
    expect(started[0]!.cancelled).toBe(true);
  });

  test("raceAttempts() counts a dial that throws as a failed attempt", async () => {
    const { dial, started } = fakeDialer();
    const race = raceAttempts(
      LOCALHOST,
      (target) => {
        if (target.family === 6) throw Object.assign(new Error("no v6"), { code: "EAFNOSUPPORT" });
        return dial(target);
      },
      { delayMs: 250 },
    );
    expect(started).toHaveLength(1);
    started[0]!.succeed();
    const result = await race;
    expect(result).toMatchObject({ ok: true, value: "socket to 127.0.0.1" });
  });

  test("raceAttempts() with no addresses fails at once", async () => {
    const { dial } = fakeDialer();
    expect(await raceAttempts([], dial, { delayMs: 250 })).toMatchObject({
      ok: false,
      aborted: false,
      failures: [],
    });
  });
});
