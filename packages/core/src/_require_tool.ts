import { execFileSync } from "node:child_process";
import { type TestContext, test } from "vitest";

/** The programs the interop tests talk to, besides python3. */
export type InteropTool = "socat" | "nc" | "curl" | "xxd" | "openssl" | "ss";

const INSTALL: Record<InteropTool, string> = {
  socat: "apt-get install socat",
  nc: "apt-get install netcat-openbsd",
  curl: "apt-get install curl",
  xxd: "apt-get install xxd",
  openssl: "apt-get install openssl",
  ss: "apt-get install iproute2",
};

const found = new Map<InteropTool, boolean>();

function present(tool: InteropTool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    // The tests use OpenBSD nc's -N and -U, which other netcats lack; `nc -h` names it.
    const probe = tool === "nc" ? "nc -h 2>&1 | grep -q 'OpenBSD netcat'" : `command -v ${tool}`;
    try {
      execFileSync("sh", ["-c", probe], { stdio: "ignore" });
      ok = true;
    } catch {
      ok = false;
    }
    found.set(tool, ok);
  }
  return ok;
}

/**
 * Makes an interop test that needs `socat`, `nc` (OpenBSD), `curl` or `xxd` skip when
 * one is missing, with the reason in the run's summary (`needs socat: apt-get
 * install socat`); under `CI=true` the test fails instead, so CI never passes by
 * skipping. Call it first in the test, with the test context's `skip`.
 *
 * @param skip The running test's `skip` (from its context).
 * @param tools The programs the test runs.
 * @throws {Error} under `CI=true` when a tool is missing.
 * @example
 * ```ts
 * import { requireTools } from "@socklab/core/testing";
 * import { test } from "vitest";
 * test("curl gets the page", async ({ skip }) => {
 *   requireTools(skip, "curl");
 * });
 * ```
 */
export function requireTools(skip: (note: string) => void, ...tools: InteropTool[]): void {
  const missing = tools.filter((t) => !present(t));
  if (missing.length === 0) return;
  const reason = `needs ${missing.join(" and ")}: ${missing.map((t) => INSTALL[t]).join(", ")}`;
  if (process.env.CI === "true") throw new Error(`Missing under CI=true: ${reason}`);
  skip(reason);
}

/**
 * `test`, for a test that talks to real tools: where one is missing it is
 * skipped with the reason (which tool, how to install it), and fails under
 * `CI=true`, as {@linkcode requireTools} does at the start of the test.
 *
 * @param tools The programs the test runs.
 * @returns A `test` function: `(name, fn, timeout?)`.
 * @example
 * ```ts
 * import { testWithTools } from "@socklab/core/testing";
 * testWithTools("socat")("socat reaches it", async () => {});
 * ```
 */
export function testWithTools(
  ...tools: InteropTool[]
): (name: string, fn: (context: TestContext) => unknown, timeout?: number) => void {
  return (name, fn, timeout) =>
    test(
      name,
      (context) => {
        requireTools(context.skip, ...tools);
        return fn(context);
      },
      timeout,
    );
}
