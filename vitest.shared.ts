import { relative } from "node:path";
import { defineConfig } from "vitest/config";
import type { Reporter, TestModule, Vitest } from "vitest/node";

/**
 * Lists every test skipped with a reason (`requireTools` from
 * `@socklab/core/testing`: which tool is missing and how to install it) after the
 * run's summary, where the default reporter shows only a count.
 */
class SkipReasons implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests("skipped")) {
        const result = test.result();
        if (result.state === "skipped" && result.note !== undefined) {
          const file = relative(module.project.config.root, module.moduleId);
          lines.push(`  skipped  ${file} > ${test.fullName}: ${result.note}`);
        }
      }
    }
    if (lines.length > 0) this.#vitest?.logger.log(lines.join("\n"));
  }
}

/** The test settings every package shares: run TypeScript source through the "@socklab/source" export condition. */
export default defineConfig({
  resolve: { conditions: ["@socklab/source", "module", "node", "import", "default"] },
  ssr: {
    resolve: {
      conditions: ["@socklab/source", "module", "node", "import", "default"],
      externalConditions: ["@socklab/source"],
    },
  },
  test: {
    include: ["src/**/*_test.ts", "test/**/*_test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 20_000,
    teardownTimeout: 5_000,
    reporters: ["default", new SkipReasons()],
  },
});
