// `npm run bench` measures the app against the floor in the same run and prints both with
// their ratio. Timings are printed, never asserted: machines differ and are noisy.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";

describe("npm run bench", () => {
  it("prints the floor, the app for 3 and 20 environments with their ratio to it, and what the npm commands add", () => {
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", join(REPO_ROOT, "scripts/bench.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_RUNS: "1" },
      encoding: "utf8",
      timeout: 300_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const seconds = String.raw`\d+\.\d\d s \(min \d+\.\d\d, CPU \d+\.\d\d\)  peak RSS \d+ MB`;
    expect(r.stdout).toMatch(new RegExp(`^floor +${seconds}$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^\\d+ example environments +${seconds}  \\d+\\.\\d× floor \\(CPU \\d+\\.\\d×\\)  \\(target ≤ 3×, ≤ 200 MB: (ok|OVER)\\)$`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^20 generated environments +${seconds}  \\d+\\.\\d× floor \\(CPU \\d+\\.\\d×\\)  \\(target ≤ 6×: (ok|OVER)\\)$`, "m"));
    expect(r.stdout).toMatch(/^npm run synth .* [+-]\d+\.\d\d s over the app, CPU [+-]\d+\.\d\d s \(target ≤ 0\.5 s: (ok|OVER)\)$/m);
    expect(r.stdout).toMatch(/^npm run plan -- staging \(no-op terraform\) .* over the app on staging/m);
    process.stdout.write(r.stdout);
  }, 300_000);
});
