// Preloaded into each measured node process (npm's own and the ones it starts): appends, at
// exit, its peak resident memory (KB) and the CPU time it used (µs, user + system). The
// bench takes the largest peak and the sum of CPU times.
const { appendFileSync } = require("node:fs");

const report = process.env.BENCH_PEAK_FILE;
if (report) {
  process.on("exit", () => {
    const cpu = process.cpuUsage();
    appendFileSync(report, `${process.resourceUsage().maxRSS} ${cpu.user + cpu.system}\n`);
  });
}
