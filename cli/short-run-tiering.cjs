// @ts-check
// V8 optimizes a function with TurboFan, on a background thread, once the function has used up
// its interrupt budget. A run of the app is short (half a second for the examples) and runs a
// little of much code: at the default budget, much of that optimizing is done for code the run
// then barely uses, on a core a 2-core CI runner does not have to spare. Four times the default
// budget, measured on node 20 with `perf stat -r 5 node cli/run.cjs app` (task-clock, all
// threads): 777 -> 577 ms for the examples, 1402 -> 1176 ms for 20 generated environments,
// 3526 -> 3315 ms for 80, wall time the same or shorter at each size. Other V8 versions tier
// differently (node 22 adds Maglev) and keep V8's own budget: the flag is set only where it
// was measured.
"use strict";

/** V8 11's default interrupt budget (`node --v8-options`), in bytes of bytecode run. */
const DEFAULT_INTERRUPT_BUDGET = 67584;

/** The V8 flags for a short run of this node; none where they were not measured. */
const SHORT_RUN_V8_FLAGS = process.versions.v8.startsWith("11.") ? [`--interrupt-budget=${4 * DEFAULT_INTERRUPT_BUDGET}`] : [];

module.exports = { SHORT_RUN_V8_FLAGS };
