// `npm run bench` measures the app against the floor in the same run and prints both with
// their ratio. Timings are printed, never asserted: machines differ and are noisy.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";

describe("npm run bench", () => {
  it("prints the floor, the app for the examples and for generated environments with their ratio to it, and what the npm commands add", () => {
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", join(REPO_ROOT, "scripts/bench.ts")], {
      cwd: REPO_ROOT,
      // One run of each, no warm-up, 2 generated environments (one of each kind it generates,
      // homelab and staging): this checks the bench runs and what it prints; the numbers to
      // quote come from `npm run bench`.
      env: { ...process.env, BENCH_RUNS: "1", BENCH_WARMUP: "0", BENCH_GENERATED: "2" },
      encoding: "utf8",
      timeout: 300_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const seconds = String.raw`\d+\.\d\d s \(min \d+\.\d\d, CPU \d+\.\d\d\)  peak RSS \d+ MB`;
    expect(r.stdout).toMatch(new RegExp(`^floor +${seconds}$`, "m"));
    expect(r.stdout).toMatch(
      new RegExp(`^\\d+ example environments +${seconds}  \\d+\\.\\d× floor \\(CPU \\d+\\.\\d×\\)  \\(target ≤ 3×, ≤ 200 MB: (ok|OVER)\\)$`, "m"),
    );
    expect(r.stdout).toMatch(new RegExp(`^2 generated environments +${seconds}  \\d+\\.\\d× floor \\(CPU \\d+\\.\\d×\\)  \\(target ≤ 6×: (ok|OVER)\\)$`, "m"));
    expect(r.stdout).toMatch(/^npm run synth .* [+-]\d+\.\d\d s over the app, CPU [+-]\d+\.\d\d s \(target ≤ 0\.5 s: (ok|OVER)\)$/m);
    expect(r.stdout).toMatch(/^npm run plan -- staging \(no-op terraform\) .* over the app on staging/m);
    process.stdout.write(r.stdout);
  }, 300_000);
});
