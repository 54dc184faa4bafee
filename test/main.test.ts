// main.ts as cdktf runs it: a child process, its exit code, stderr and what it writes. Two
// runs are child processes, the exit code main.ts sets: failure here; success, every
// environment by default, is test/cli/bundle.test.ts's run from the sources, which the bundle
// must equal. The rest call the entry point main.ts calls (cli/app.ts's runApp) in this
// process, with the same checks.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_DIR, exampleEnvironments, exampleStack, REPO_ROOT, stackNamesOf } from "./examples";
import { runAppInProcess } from "./support/run-app";

function runMain(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ["--require", "tsx/cjs", join(REPO_ROOT, "main.ts")], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same run, in this process. */
function runEntryPoint(env: { GITLAB_CONFIG_DIR: string; CDKTF_OUTDIR: string; GITLAB_ENVIRONMENTS?: string }) {
  const { GITLAB_CONFIG_DIR, CDKTF_OUTDIR, ...extra } = env;
  return runAppInProcess(GITLAB_CONFIG_DIR, CDKTF_OUTDIR, extra);
}

function scratch() {
  const dir = mkdtempSync(join(tmpdir(), "main-test-"));
  const configDir = join(dir, "config");
  cpSync(CONFIG_DIR, configDir, { recursive: true });
  return { dir, configDir, outdir: join(dir, "cdktf.out") };
}

let synthesized: ReturnType<typeof scratch> | undefined;
/** A scratch directory after a synth of every example: made once, each test gets its own copy. */
function afterFullSynth() {
  if (!synthesized) {
    synthesized = scratch();
    const r = runEntryPoint({ GITLAB_CONFIG_DIR: synthesized.configDir, CDKTF_OUTDIR: synthesized.outdir });
    expect(r.status, r.stderr).toBe(0);
  }
  const dir = mkdtempSync(join(tmpdir(), "main-test-"));
  cpSync(synthesized.dir, dir, { recursive: true });
  return { dir, configDir: join(dir, "config"), outdir: join(dir, "cdktf.out") };
}

/** A stack as cdktf's Testing.synth returns it: without cdktf's "//" metadata. */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "//")
      .map(([key, v]) => [key, withoutMetadata(v)]),
  );
}

describe("main.ts", () => {
  it("synthesizes only the environments named in GITLAB_ENVIRONMENTS", () => {
    const s = scratch();
    const r = runEntryPoint({ GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir, GITLAB_ENVIRONMENTS: "staging" });
    expect(r.status).toBe(0);
    expect(readdirSync(join(s.outdir, "stacks"))).toEqual(["staging", "staging-gitlab"]);
  });

  it("names an unknown environment instead of synthesizing nothing", () => {
    const s = scratch();
    const r = runEntryPoint({ GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir, GITLAB_ENVIRONMENTS: "qa" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/qa\.yaml: \(file\): no such environment; known: cluster, homelab, k3s-homelab, production, staging/);
  });

  it("refuses a .yml environment file, which the pipeline would never plan", () => {
    const s = scratch();
    cpSync(join(s.configDir, "staging.yaml"), join(s.configDir, "qa.yml"));
    const r = runEntryPoint({ GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/qa\.yml: \(file\): environment files end in \.yaml \(the pipeline plans and applies config\/<env>\.yaml\): rename it/);
    expect(existsSync(s.outdir)).toBe(false);
  });

  it("on invalid config: exits 1, prints every problem of every file, no stack trace, writes nothing", () => {
    const s = scratch();
    const homelab = readFileSync(join(s.configDir, "homelab.yaml"), "utf8");
    writeFileSync(join(s.configDir, "homelab.yaml"), homelab.replace("sshPort: 2222", "sshPort: 99999"));
    const staging = readFileSync(join(s.configDir, "staging.yaml"), "utf8");
    writeFileSync(join(s.configDir, "staging.yaml"), staging.replace("instanceType: t3a.xlarge", "instanceType: t3a.xlarge\n  instanceTypo: x"));
    const r = runMain({ GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/homelab\.yaml: gitlab\.sshPort: must be at most 65535, got 99999 \(line \d+, column \d+\)/);
    expect(r.stderr).toMatch(/staging\.yaml: aws\.instanceTypo: unknown key/);
    expect(r.stderr).toContain("2 problem(s) found; nothing was synthesized.");
    expect(r.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    expect(existsSync(s.outdir)).toBe(false);
    expect(readdirSync(s.dir).sort()).toEqual(["config"]);
  });

  it("writes each example's stacks as the run's shared example stacks have them (kept between runs by their inputs)", () => {
    const s = afterFullSynth();
    const stacks = stackNamesOf(exampleEnvironments().map((e) => e.name));
    expect(readdirSync(join(s.outdir, "stacks")).sort()).toEqual([...stacks].sort());
    for (const name of stacks) {
      const written = JSON.parse(readFileSync(join(s.outdir, "stacks", name, "cdk.tf.json"), "utf8"));
      expect(
        withoutMetadata(written),
        `${name}: the kept example stacks are not what the sources synthesize now: an input their key misses (test/support/example-stacks-cache.ts); remove the cache's example-stacks directory`,
      ).toEqual(exampleStack(name));
    }
  });

  it("on invalid config leaves a previous synth untouched", () => {
    const s = afterFullSynth();
    const before = readFileSync(join(s.outdir, "stacks/staging/cdk.tf.json"), "utf8");
    writeFileSync(join(s.configDir, "staging.yaml"), "platform: aws\n");
    expect(runEntryPoint({ GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir }).status).toBe(1);
    expect(readFileSync(join(s.outdir, "stacks/staging/cdk.tf.json"), "utf8")).toBe(before);
    expect(readdirSync(join(s.outdir, "stacks")).sort()).toEqual(stackNamesOf(["cluster", "homelab", "k3s-homelab", "production", "staging"]));
    expect(readdirSync(s.dir).sort()).toEqual(["cdktf.out", "config"]);
  });

  it("keeps what Terraform keeps beside the generated files (.terraform/, lock file)", () => {
    const s = afterFullSynth();
    const stackDir = join(s.outdir, "stacks/staging");
    cpSync(join(stackDir, "cdk.tf.json"), join(stackDir, ".terraform.lock.hcl"));
    writeFileSync(join(stackDir, "plan.tfplan"), "plan");
    expect(runEntryPoint({ GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir }).status).toBe(0);
    expect(readdirSync(stackDir).sort()).toEqual([".terraform.lock.hcl", "cdk.tf.json", "plan.tfplan"]);
  });
});
