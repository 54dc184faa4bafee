// Preloaded into each measured node process (npm's own and the ones it starts): appends its
// peak resident memory (KB) at exit; the bench reads the largest.
const { appendFileSync } = require("node:fs");

const report = process.env.BENCH_PEAK_FILE;
if (report) process.on("exit", () => appendFileSync(report, `${process.resourceUsage().maxRSS}\n`));
