import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real processes, databases and reactors: two cores, so keep the files from starving each other.
    maxWorkers: 2,
  },
});
