import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Synthesizes each example once per run; test files read it with exampleStack().
    globalSetup: ["test/setup/example-stacks.ts"],
    // Synthesizing stacks takes a moment on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
