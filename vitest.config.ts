import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import SlowestFirstSequencer from "./test/setup/sequencer";

const { SHORT_RUN_V8_FLAGS } = createRequire(import.meta.url)("./cli/short-run-tiering.cjs") as { SHORT_RUN_V8_FLAGS: readonly string[] };

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Synthesizes each example once per run; test files read it with exampleStack().
    // One warm AWS CLI server per run for the host script tests (test/support/warm-aws-cli.ts),
    // first: it warms up while the examples synthesize.
    // First, the run's own temporary directory (test/setup/run-tmpdir.ts), removed after it, and
    // processes that start without the machine's NODE_EXTRA_CA_CERTS (test/setup/no-extra-ca-certs.ts).
    globalSetup: ["test/setup/run-tmpdir.ts", "test/setup/no-extra-ca-certs.ts", "test/setup/warm-aws-cli.ts", "test/setup/example-stacks.ts"],
    setupFiles: ["test/setup/cdktf-stack-traces.ts"],
    // The slowest files first, also on a run with no durations of its own (test/durations.json).
    sequence: { sequencer: SlowestFirstSequencer },
    // Test files share their workers' module cache instead of importing cdktf, the providers
    // and the config schema again each (that import was half of the run). Tests must leave no
    // global state behind: they restore what they change (process.env, spies).
    isolate: false,
    // Three workers for two cores: the files that wait on real processes (scripts polling on
    // short clocks, Docker engines, the AWS CLI) run their tests concurrently, so a third
    // worker keeps the cores busy. Each worker more loads cdktf and the providers again and
    // adds to the contention: on 2 cores, 121 CPU-s and 63.7 s with 3 workers against 128-130
    // CPU-s and 66.6-67.8 s with 4, in the same hour (perf stat, alternating).
    maxWorkers: Math.min(6, Math.ceil(availableParallelism() * 1.5)),
    // V8 optimizes later, as in the app's runs (cli/short-run-tiering.cjs): a worker, too, runs a
    // little of much code, each file's own. 2-5% less CPU for the run on node 20, about the
    // machine's own noise: 110.8-114.3 CPU-s against 118.1-118.8 with V8's default, alternating,
    // for the workers' flag alone; 116.1-119.0 against 118.5-122.0 with the app's as well.
    execArgv: [...SHORT_RUN_V8_FLAGS],
    // vite's transform of each TypeScript file, kept on disk (node_modules/.experimental-vitest-
    // cache, keyed by content and config; npm ci or `vitest --clearCache` empties it) instead of
    // done again on every run: transform 5.4-5.6 s -> 0.9-1.0 s, about 6 CPU-s less a run once
    // warm (a fresh clone's first run fills it).
    experimental: { fsModuleCache: true },
    // Synthesizing stacks takes a moment on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
