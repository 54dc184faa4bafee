// `npm run bench`: the app against the floor, measured side by side in one run (machines
// differ in speed and are noisy: the ratio is the number to quote). Prints, for the examples
// and for 20 generated environments, the wall time (median and min), the peak resident
// memory, and the ratio to the floor; then what the documented commands add over the app
// itself. Targets (issue 12): 3 examples ≤ 3× floor and ≤ 200 MB, 20 environments
// ≤ 6× floor, the documented commands ≤ 0.5 s over the app. Nothing is asserted here.
//   BENCH_RUNS=7 npm run bench
// BENCH_WARMUP=0 skips the warm-up run of each command, BENCH_GENERATED=<n> generates n
// environments instead of 20: for the test that checks the bench runs, not for numbers to quote.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";

const ROOT = join(__dirname, "..");
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
const WARMUP = process.env.BENCH_WARMUP !== "0";
const GENERATED = Math.max(1, Number(process.env.BENCH_GENERATED ?? 20));
const PEAK = join(ROOT, "scripts/bench/peak-memory.cjs");
const TARGET = { examples: 3, generated: 6, megabytes: 200, commandOverhead: 0.5 };

interface Sample {
  readonly seconds: number;
  /** CPU time of the measured node processes: steadier than wall time on a busy machine. */
  readonly cpuSeconds: number;
  readonly megabytes: number;
}

/** The app command from cdktf.json, split into argv (a plain command line). */
const appCommand = (JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8")).app as string).split(/\s+/);

function run(argv: readonly string[], env: NodeJS.ProcessEnv): Sample {
  const work = mkdtempSync(join(tmpdir(), "bench-"));
  const peakFile = join(work, "peak");
  const [command, ...args] = argv;
  // node processes report their own peak (the preload); npm's is the child node's.
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ""} --require ${PEAK}`.trim();
  const started = performance.now();
  const r = spawnSync(command!, args, {
    cwd: ROOT,
    env: { ...process.env, CDKTF_OUTDIR: join(work, "cdktf.out"), BENCH_PEAK_FILE: peakFile, NODE_OPTIONS: nodeOptions, ...env },
    encoding: "utf8",
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  const processes = readFileSync(peakFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" ").map(Number));
  const megabytes = Math.max(...processes.map(([rss]) => rss!)) / 1024;
  const cpuSeconds = processes.reduce((sum, [, cpu]) => sum + cpu!, 0) / 1e6;
  rmSync(work, { recursive: true, force: true });
  return { seconds, cpuSeconds, megabytes };
}

/** `count` environments from the examples, alternating homelab and staging, none colliding. */
function generatedConfigDir(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-config-"));
  const examples = ["homelab", "staging"].map((n) => parse(readFileSync(join(ROOT, "config", `${n}.yaml`), "utf8")));
  for (let i = 0; i < count; i++) {
    const name = `env-${String(i).padStart(2, "0")}`;
    const env = structuredClone(examples[i % 2]);
    env.domain = `${name}.example.com`;
    if (env.docker) env.docker.publicAddress = `198.51.100.${i + 1}`;
    if (env.state?.backend === "s3") env.state.key = `gitlab-platform/${name}.tfstate`;
    if (env.tls && "strictSslMode" in env.tls) env.tls.strictSslMode = false;
    writeFileSync(join(dir, `${name}.yaml`), stringify(env));
  }
  return dir;
}

/** A terraform that does nothing: what `npm run plan` adds over the app, without Terraform's own time. */
function stubTerraform(): string {
  const bin = mkdtempSync(join(tmpdir(), "bench-bin-"));
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "terraform"), '#!/bin/sh\n[ "$1" = show ] && echo "{}"\nexit 0\n');
  chmodSync(join(bin, "terraform"), 0o755);
  return bin;
}

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const stats = (samples: readonly Sample[]) => ({
  median: median(samples.map((s) => s.seconds)),
  min: sorted(samples.map((s) => s.seconds))[0]!,
  cpu: median(samples.map((s) => s.cpuSeconds)),
  peak: Math.max(...samples.map((s) => s.megabytes)),
});

/** Runs each command RUNS times, interleaved (noise hits all alike), after one warm-up each. */
function measure(commands: Record<string, () => Sample>): Record<string, ReturnType<typeof stats>> {
  if (WARMUP) for (const c of Object.values(commands)) c();
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [k, c] of Object.entries(commands)) samples[k]!.push(c());
  return Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, stats(s)]));
}

const fmt = (s: ReturnType<typeof stats>) => `${s.median.toFixed(2)} s (min ${s.min.toFixed(2)}, CPU ${s.cpu.toFixed(2)})  peak RSS ${s.peak.toFixed(0)} MB`;
const verdict = (ok: boolean) => (ok ? "ok" : "OVER");

const exampleDir = join(ROOT, "config");
const exampleCount = readdirSync(exampleDir).filter((f) => f.endsWith(".yaml")).length;
const generated = generatedConfigDir(GENERATED);
const bin = stubTerraform();
const floorCommand = [process.execPath, join(ROOT, "scripts/bench/floor.cjs")];
const app =
  (configDir: string, extra: NodeJS.ProcessEnv = {}) =>
  () =>
    run(appCommand, { GITLAB_CONFIG_DIR: configDir, ...extra });
const npm =
  (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  () =>
    run(["npm", "run", "--silent", ...args], { GITLAB_CONFIG_DIR: exampleDir, ...extra });

console.log(
  `node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}, ${RUNS} runs each${WARMUP ? "" : " (no warm-up)"}, interleaved; median wall time from spawn to exit (min; median CPU time)`,
);
console.log(`app: ${appCommand.join(" ")} (cdktf.json); floor: node + cdktf + one empty stack (scripts/bench/floor.cjs)`);
// One interleaved measurement of everything: each documented command runs right after the app
// doing the same work, its baseline (the examples' app run is also npm run synth's).
const m = measure({
  floor: () => run(floorCommand, {}),
  examples: app(exampleDir),
  synth: npm(["synth"]),
  generated: app(generated),
  appStaging: app(exampleDir, { GITLAB_ENVIRONMENTS: "staging" }),
  plan: npm(["plan", "--", "staging"], { PATH: `${bin}:${process.env.PATH}` }),
});
const floor = m.floor!;
const ratio = (s: ReturnType<typeof stats>) => s.median / floor.median;
const cpuRatio = (s: ReturnType<typeof stats>) => s.cpu / floor.cpu;
console.log(`${"floor".padEnd(34)} ${fmt(floor)}`);
console.log(
  `${`${exampleCount} example environments`.padEnd(34)} ${fmt(m.examples!)}  ${ratio(m.examples!).toFixed(1)}× floor (CPU ${cpuRatio(m.examples!).toFixed(1)}×)  ` +
    `(target ≤ ${TARGET.examples}×, ≤ ${TARGET.megabytes} MB: ${verdict(ratio(m.examples!) <= TARGET.examples && m.examples!.peak <= TARGET.megabytes)})`,
);
console.log(
  `${`${GENERATED} generated environments`.padEnd(34)} ${fmt(m.generated!)}  ${ratio(m.generated!).toFixed(1)}× floor (CPU ${cpuRatio(m.generated!).toFixed(1)}×)  ` +
    `(target ≤ ${TARGET.generated}×: ${verdict(ratio(m.generated!) <= TARGET.generated)})`,
);

// The documented commands against the app doing the same work.
const c = { app: m.examples, synth: m.synth, appStaging: m.appStaging, plan: m.plan };
const over = (a: ReturnType<typeof stats>, b: ReturnType<typeof stats>) => a.median - b.median;
/** A difference in seconds with its sign: '+0.23 s', '-0.05 s' (a loaded machine can time the wrapper below the app). */
const signed = (seconds: number) => `${seconds < 0 ? "-" : "+"}${Math.abs(seconds).toFixed(2)} s`;
const overCpu = (a: ReturnType<typeof stats>, b: ReturnType<typeof stats>) => `CPU ${signed(a.cpu - b.cpu)}`;
console.log(
  `${"npm run synth".padEnd(34)} ${fmt(c.synth!)}  ${signed(over(c.synth!, c.app!))} over the app, ${overCpu(c.synth!, c.app!)} (target ≤ ${TARGET.commandOverhead} s: ${verdict(over(c.synth!, c.app!) <= TARGET.commandOverhead)})`,
);
console.log(
  `${"npm run plan -- staging (no-op terraform)".padEnd(34)} ${fmt(c.plan!)}  ${signed(over(c.plan!, c.appStaging!))} over the app on staging, ${overCpu(c.plan!, c.appStaging!)} (target ≤ ${TARGET.commandOverhead} s: ${verdict(over(c.plan!, c.appStaging!) <= TARGET.commandOverhead)})`,
);
rmSync(generated, { recursive: true, force: true });
rmSync(bin, { recursive: true, force: true });
