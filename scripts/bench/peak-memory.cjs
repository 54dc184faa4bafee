// Preloaded into the measured process: writes its peak resident memory (KB) at exit.
const { writeFileSync } = require("node:fs");

const report = process.env.BENCH_PEAK_FILE;
if (report) process.on("exit", () => writeFileSync(report, String(process.resourceUsage().maxRSS)));
