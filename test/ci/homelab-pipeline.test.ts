// Which credential each homelab pipeline job holds (README, "Delivery"):
//   plan:homelab   merge requests only; a build runner's job container: no Docker daemon, no
//                  socket; the state read with the job token (a Developer's may read, not lock:
//                  -lock=false), no refresh (nothing to refresh from); the Cloudflare token only.
//   apply:homelab  the default branch only; the protected deploy runner, whose jobs get the
//                  host's Docker socket: plans with refresh and the lock, checks the plan, applies.
// The pipeline file as GitLab reads it (gitlab-ci-local), and plan.sh's Terraform arguments.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../examples";

const GITLAB_CI_LOCAL = join(REPO_ROOT, "node_modules/.bin/gitlab-ci-local");
const text = readFileSync(join(REPO_ROOT, ".gitlab-ci.yml"), "utf8");
const ci = parse(text, { customTags: [{ tag: "!reference", collection: "seq", resolve: (v: unknown) => ({ reference: v }) }] }) as Record<string, any>;

/** A clone (with an origin, as gitlab-ci-local compares changes against it) with a change to config/homelab.yaml on `branch`. */
function repoWithHomelabChange(branch: string): string {
  const git = (cwd: string, ...a: string[]) => execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=ci", ...a], { cwd });
  const source = mkdtempSync(join(tmpdir(), "homelab-ci-src-"));
  git(source, "init", "-q", "-b", "main");
  writeFileSync(join(source, ".gitlab-ci.yml"), text);
  mkdirSync(join(source, "config"));
  writeFileSync(join(source, "config", "homelab.yaml"), "base\n");
  git(source, "add", "-A");
  git(source, "commit", "-qm", "base");
  const clone = mkdtempSync(join(tmpdir(), "homelab-ci-"));
  git(clone, "clone", "-q", source, ".");
  if (branch !== "main") git(clone, "checkout", "-q", "-b", branch);
  writeFileSync(join(clone, "config", "homelab.yaml"), "changed\n");
  git(clone, "commit", "-qam", "change");
  return clone;
}

/** The jobs gitlab-ci-local creates; the file's validity is test/ci/gitlab-ci.test.ts's (the schema is half a run's CPU). */
function jobs(dir: string, variables: Record<string, string> = {}): string[] {
  const args = ["--list", "--no-json-schema-validation", ...Object.entries(variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`])];
  const r = spawnSync(GITLAB_CI_LOCAL, args, { cwd: dir, encoding: "utf8", env: { ...process.env, CI: undefined } });
  if (r.status !== 0) throw new Error(`gitlab-ci-local failed:\n${r.stdout}${r.stderr}`);
  return r.stdout
    .split("\n")
    .map((l) => l.split(/\s+/)[0] ?? "")
    .filter((n) => /^(plan|apply):/.test(n));
}

describe("homelab pipeline jobs", () => {
  it("a merge request plans on the build runners, with no Docker daemon, no refresh and no state lock", () => {
    const plan = ci["plan:homelab"];
    expect(plan.tags ?? ci.default.tags).toEqual(["docker"]);
    expect(plan.variables).toMatchObject({ ENVIRONMENT: "homelab", PLAN_REFRESH: "false" });
    expect(JSON.stringify(plan)).not.toMatch(/DOCKER_HOST|docker\.sock/);
    for (const rule of plan.rules) expect(rule.if).toBe('$CI_PIPELINE_SOURCE == "merge_request_event"');
    expect(jobs(repoWithHomelabChange("change"), { CI_PIPELINE_SOURCE: "merge_request_event" })).toContain("plan:homelab");
  });

  it("after the merge, the protected deploy runner plans and applies in one job, through the host's socket", () => {
    const apply = ci["apply:homelab"];
    expect(apply.needs).toEqual(["synth"]);
    expect(apply.variables).toMatchObject({ ENVIRONMENT: "homelab", PLAN_BEFORE_APPLY: "true" });
    expect(ci[".apply"].tags).toEqual(["deploy"]);
    expect(JSON.stringify(apply)).not.toMatch(/DOCKER_HOST/);
    const main = jobs(repoWithHomelabChange("main"));
    expect(main).toContain("apply:homelab");
    expect(main).not.toContain("plan:homelab");
    // Its second stack too: planned and applied on the deploy runner, after the first.
    expect(main).toContain("apply:homelab-gitlab");
    expect(main).not.toContain("plan:homelab-gitlab");
    expect(ci["apply:homelab-gitlab"].needs).toEqual(["synth", "apply:homelab"]);
    expect(ci["apply:homelab-gitlab"].variables).toMatchObject({ STACK: "homelab-gitlab", PLAN_BEFORE_APPLY: "true" });
  });
});

/** Runs scripts/ci/plan.sh with a terraform that records its arguments. */
function planArgs(env: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), "plan-sh-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  mkdirSync(join(dir, "cdktf.out", "stacks", "homelab"), { recursive: true });
  writeFileSync(join(dir, "cdktf.out", "stacks", "homelab", "cdk.tf.json"), "{}");
  const log = join(dir, "terraform.log");
  writeFileSync(join(bin, "terraform"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${log}"\ncase "$1" in show) echo '{}' ;; plan) : > plan.tfplan ;; esac\n`);
  // The TypeScript helpers (node --require tsx/cjs scripts/ci/…) are not what this checks.
  writeFileSync(join(bin, "node"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(bin, "terraform"), 0o755);
  chmodSync(join(bin, "node"), 0o755);
  const r = spawnSync("bash", [join(REPO_ROOT, "scripts/ci/plan.sh"), "homelab"], {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
  });
  if (r.status !== 0) throw new Error(`plan.sh failed: ${r.stderr}`);
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("plan "));
}

describe("scripts/ci/plan.sh", () => {
  it("plans a merge request without the state lock, which a Developer's job token cannot take", () => {
    expect(planArgs({ CI_PIPELINE_SOURCE: "merge_request_event" })[0]).toContain("-lock=false");
    expect(planArgs({ CI_PIPELINE_SOURCE: "push" })[0]).not.toContain("-lock=false");
  });

  it("skips the refresh only when asked (the homelab's merge requests, which have no Docker daemon)", () => {
    expect(planArgs({ PLAN_REFRESH: "false" })[0]).toContain("-refresh=false");
    expect(planArgs({})[0]).not.toContain("-refresh=false");
  });
});
