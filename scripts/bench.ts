// `npm run bench`: wall time and peak memory of the app command in cdktf.json, as
// `cdktf synth` runs it, for the example environments and for 20 generated ones.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";

const ROOT = join(__dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const BUDGET = { seconds: 1.0, megabytes: 200 };

/** The app command from cdktf.json, split into argv (it is a plain command line). */
const appCommand = (JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")).app as string).split(/\s+/);

interface Sample {
  seconds: number;
  megabytes: number;
}

function runOnce(configDir: string, extraEnv: Record<string, string> = {}): Sample {
  const work = mkdtempSync(join(tmpdir(), "bench-"));
  const peakFile = join(work, "peak");
  const [command, ...args] = appCommand;
  const started = performance.now();
  const result = spawnSync(command!, ["--require", join(ROOT, "scripts/bench/peak-memory.cjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, GITLAB_CONFIG_DIR: configDir, CDKTF_OUTDIR: join(work, "cdktf.out"), BENCH_PEAK_FILE: peakFile, ...extraEnv },
    encoding: "utf8",
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`synth failed:\n${result.stderr}`);
  const megabytes = Number(readFileSync(peakFile, "utf8")) / 1024;
  rmSync(work, { recursive: true, force: true });
  return { seconds, megabytes };
}

/** 20 environments derived from the examples: alternating platforms, distinct names and hosts. */
function generatedConfigDir(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-config-"));
  const examples = ["homelab", "staging"].map((n) => parse(readFileSync(join(ROOT, "config", `${n}.yaml`), "utf8")));
  for (let i = 0; i < count; i++) {
    const env = structuredClone(examples[i % 2]);
    env.gitlab.hostname = `gitlab-${i}`;
    env.gitlab.sshHostname = `ssh-gitlab-${i}`;
    env.registry = { ...(env.registry ?? {}), hostname: `registry-${i}` };
    writeFileSync(join(dir, `env-${String(i).padStart(2, "0")}.yaml`), stringify(env));
  }
  return dir;
}

function summarize(label: string, samples: Sample[], budget?: typeof BUDGET): void {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
  const secs = samples.map((s) => s.seconds);
  const mbs = samples.map((s) => s.megabytes);
  const verdict = budget
    ? median(secs) <= budget.seconds && Math.max(...mbs) <= budget.megabytes
      ? `  within budget (≤ ${budget.seconds} s, ≤ ${budget.megabytes} MB)`
      : `  OVER BUDGET (≤ ${budget.seconds} s, ≤ ${budget.megabytes} MB)`
    : "";
  console.log(
    `${label.padEnd(34)} wall median ${median(secs).toFixed(2)} s (min ${sorted(secs)[0]!.toFixed(2)}, max ${sorted(secs).at(-1)!.toFixed(2)})  ` +
      `peak RSS max ${Math.max(...mbs).toFixed(0)} MB${verdict}`,
  );
}

const exampleDir = join(ROOT, "config");
const exampleCount = readdirSync(exampleDir).filter((f) => f.endsWith(".yaml")).length;
console.log(`app command: ${appCommand.join(" ")}  (node ${process.version}; ${RUNS} runs each with tsx's cache warm, the budget's condition)`);
// What a fresh CI job or a first `cdktf synth` pays: tsx compiles every file again.
summarize(`${exampleCount} examples, no tsx cache`, Array.from({ length: 3 }, () => runOnce(exampleDir, { TSX_DISABLE_CACHE: "1" })));
runOnce(exampleDir);
summarize(`${exampleCount} example environments`, Array.from({ length: RUNS }, () => runOnce(exampleDir)), BUDGET);
const generated = generatedConfigDir(20);
runOnce(generated);
summarize("20 generated environments", Array.from({ length: RUNS }, () => runOnce(generated)));
rmSync(generated, { recursive: true, force: true });
