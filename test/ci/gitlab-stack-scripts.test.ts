// scripts/ci/plan.sh and apply.sh on an environment's second stack (<env>-gitlab): GitLab
// must answer first (`node cli/run.cjs gitlab-ready`, the CLI's probe and bounded wait), and on
// docker the automation token reaches Terraform as GITLAB_TOKEN. Run for real with bash, the
// real tsx, a stand-in terraform and docker on PATH and a stand-in GitLab API. The scripts run
// asynchronously, so that the stand-in GitLab answers from the test's own process.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONFIG_DIR, REPO_ROOT } from "../examples";
import { spawnCaptured } from "../support/cli";
import { type FakeGitLab, startFakeGitLab } from "../support/fake-gitlab";

const FAKE_TERRAFORM = `#!/bin/sh
echo "$(basename "$(pwd)")|$*|GITLAB_TOKEN=\${GITLAB_TOKEN:-}" >> "$FAKE_TERRAFORM_LOG"
case "$1" in -chdir=*) cd "\${1#-chdir=}" && shift ;; esac
case "$1" in
  plan) for a in "$@"; do case "$a" in -out=*) echo "saved plan" > "\${a#-out=}" ;; esac; done ;;
  show) echo '{"resource_changes":[]}' ;;
esac
exit 0
`;

const FAKE_DOCKER = `#!/bin/sh
[ "$*" = "exec gitlab cat /etc/gitlab/gitlab-platform/automation-token" ] || exit 2
echo "homelab-automation-token"
`;

let gitlab: FakeGitLab | undefined;
afterEach(() => gitlab?.stop());

/** A checkout-like directory: the real scripts and node_modules, the examples, a synthesized-looking cdktf.out. */
async function workspace(stack: string, statuses: readonly number[]) {
  const dir = mkdtempSync(join(tmpdir(), "gitlab-stack-ci-"));
  for (const link of ["scripts", "node_modules", "cli", "config", "stacks", "constructs", "userdata", "policies", "package.json", "tsconfig.json"]) {
    symlinkSync(join(REPO_ROOT, link), join(dir, link));
  }
  const stackDir = join(dir, "cdktf.out", "stacks", stack);
  mkdirSync(stackDir, { recursive: true });
  writeFileSync(join(stackDir, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { http: {} } } }));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "terraform"), FAKE_TERRAFORM);
  writeFileSync(join(bin, "docker"), FAKE_DOCKER);
  chmodSync(join(bin, "terraform"), 0o755);
  chmodSync(join(bin, "docker"), 0o755);
  gitlab = await startFakeGitLab(statuses);
  const log = join(dir, "terraform.log");
  const configDir = join(dir, "examples");
  cpSync(CONFIG_DIR, configDir, { recursive: true });
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    HOME: process.env.HOME ?? dir,
    FAKE_TERRAFORM_LOG: log,
    GITLAB_CONFIG_DIR: configDir,
    GITLAB_READINESS_URL: gitlab.url,
    GITLAB_READY_INTERVAL_SECONDS: "0.2",
    CI: "true",
    // The bundle cache the test run was given, if any (else the checkout's node_modules/.cache).
    ...(process.env.GITLAB_PLATFORM_CACHE_DIR ? { GITLAB_PLATFORM_CACHE_DIR: process.env.GITLAB_PLATFORM_CACHE_DIR } : {}),
  };
  const run = (script: string, extra: Record<string, string> = {}) =>
    spawnCaptured("bash", [join(REPO_ROOT, "scripts/ci", script), stack], { cwd: dir, env: { ...env, ...extra } });
  const calls = () => (existsSync(log) ? readFileSync(log, "utf8").trimEnd().split("\n") : []);
  return { dir, stackDir, run, calls, gitlab: gitlab! };
}

describe("scripts/ci on <env>-gitlab", () => {
  it("plan.sh: GitLab answers: plans the stack, writes its report", async () => {
    const w = await workspace("staging-gitlab", [200]);
    const r = await w.run("plan.sh");
    expect(r.status, r.stderr).toBe(0);
    expect(w.calls().map((c) => c.split("|").slice(0, 2).join("|"))).toEqual([
      "staging-gitlab|init -input=false -no-color",
      "staging-gitlab|plan -input=false -no-color -out=plan.tfplan -lock-timeout=5m",
      "staging-gitlab|show -json plan.tfplan",
    ]);
    expect(existsSync(join(w.stackDir, "plan-report.json"))).toBe(true);
  }, 120_000);

  it("plan.sh: GitLab cannot be reached (a first deploy): plans nothing, says so, and the job passes", async () => {
    const w = await workspace("staging-gitlab", [502]);
    const r = await w.run("plan.sh");
    expect(r.status, r.stderr).toBe(0);
    expect(w.calls()).toEqual([]);
    expect(r.stderr).toContain(`staging-gitlab: GitLab cannot be reached: ${w.gitlab.url}: HTTP 502`);
    expect(r.stderr).toContain("plan: staging-gitlab not planned: GitLab cannot be reached yet; its apply job plans it once the first stack is applied");
  }, 120_000);

  it("apply.sh without a plan from this pipeline: waits for GitLab, plans, then applies that plan", async () => {
    const w = await workspace("staging-gitlab", [503, 200]);
    const r = await w.run("apply.sh");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("not yet: HTTP 503");
    const commands = w.calls().map((c) => c.split("|")[1]);
    expect(commands.at(-1)).toBe("-chdir=cdktf.out/stacks/staging-gitlab apply -input=false -no-color -lock-timeout=5m plan.tfplan");
    expect(commands).toContain("plan -input=false -no-color -out=plan.tfplan -lock-timeout=5m");
    // The wait's requests only: plan.sh, run by apply.sh after it, does not ask GitLab again.
    expect(w.gitlab.requests().map((q) => q.status)).toEqual([503, 200]);
  }, 120_000);

  it("apply.sh on docker: the token read from the GitLab container reaches every Terraform run as GITLAB_TOKEN, never the output", async () => {
    const w = await workspace("homelab-gitlab", [200]);
    const r = await w.run("apply.sh", { PLAN_BEFORE_APPLY: "true" });
    expect(r.status, r.stderr).toBe(0);
    expect(w.calls().length).toBeGreaterThan(3);
    for (const call of w.calls()) expect(call).toMatch(/\|GITLAB_TOKEN=homelab-automation-token$/);
    // One readiness request, with the token: plan.sh, run by apply.sh after the wait, does not ask again.
    expect(w.gitlab.requests()).toEqual([{ path: "/api/v4/version", token: "homelab-automation-token", status: 200 }]);
    expect(r.stdout + r.stderr).not.toContain("homelab-automation-token");
  }, 120_000);

  it("apply.sh: GitLab never answers: stops after the bounded wait, nothing applied", async () => {
    const w = await workspace("staging-gitlab", [502]);
    const r = await w.run("apply.sh", { GITLAB_READY_TIMEOUT_SECONDS: "1" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("deploy: GitLab did not answer at");
    expect(w.calls()).toEqual([]);
  }, 120_000);
});
