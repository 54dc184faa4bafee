import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import SlowestFirstSequencer from "./test/setup/sequencer";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Synthesizes each example once per run; test files read it with exampleStack().
    // One warm AWS CLI server per run for the host script tests (test/support/warm-aws-cli.ts),
    // first: it warms up while the examples synthesize.
    // First, the run's own temporary directory (test/setup/run-tmpdir.ts), removed after it.
    globalSetup: ["test/setup/run-tmpdir.ts", "test/setup/warm-aws-cli.ts", "test/setup/example-stacks.ts"],
    setupFiles: ["test/setup/cdktf-stack-traces.ts"],
    // The slowest files first, also on a run with no durations of its own (test/durations.json).
    sequence: { sequencer: SlowestFirstSequencer },
    // Test files share their workers' module cache instead of importing cdktf, the providers
    // and the config schema again each (that import was half of the run). Tests must leave no
    // global state behind: they restore what they change (process.env, spies).
    isolate: false,
    // Many tests wait on real processes (the AWS CLI, shellcheck, a Docker engine, promtool,
    // scripts polling on short clocks), and vitest starts the longest files first, which are the
    // ones that wait most: two workers per core keep the cores busy. More only add CPU (each
    // worker loads cdktf and the providers, and they compete for the same two cores): on 2
    // cores 58.4 s with 4 workers, 58.9 s with 3 (cores idle), 61.8 s with 6.
    maxWorkers: Math.min(8, availableParallelism() * 2),
    // Synthesizing stacks takes a moment on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
