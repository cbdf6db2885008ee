import { defineConfig } from "vitest/config";

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
  },
});
