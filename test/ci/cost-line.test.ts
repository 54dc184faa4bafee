// The merge request's plan job prints what the change does to the monthly cost: the delta
// between a synth of the target branch and this branch's, both made by their own code.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";
import { cliInProcess } from "../support/cli";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=ci", ...args], { cwd, encoding: "utf8" }).trim();

/**
 * The repository's files as they are now, committed as a target branch, in a scratch
 * repository. One per file: each test branches off the target for its change. node_modules
 * is linked, so the copy (and the target's checkout cost-line.sh makes) runs the bundle this
 * checkout's sources built, from the cache they share, until a test changes a source.
 */
function repositoryCopy(): { dir: string; base: string } {
  const dir = mkdtempSync(join(tmpdir(), "cost-line-"));
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      cpSync(join(REPO_ROOT, f), join(dir, f));
    } catch {
      // Deleted in the working tree: not part of it.
    }
  }
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  writeFileSync(join(dir, ".gitignore"), "node_modules\ncdktf.out/\n");
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "target branch");
  return { dir, base: git(dir, "rev-parse", "HEAD") };
}

/** A branch off the target branch, checked out (forced: a test that failed may have left changes): a merge request's. */
function mergeRequestBranch(name: string): string {
  git(repo.dir, "checkout", "-qf", "-b", name, repo.base);
  return repo.dir;
}

function run(dir: string, args: string[], ci: NodeJS.ProcessEnv) {
  return spawnSync(args[0]!, args.slice(1), {
    cwd: dir,
    env: { ...process.env, ...ci },
    encoding: "utf8",
  });
}

/** The synth job: this branch's stacks of `envs`, by the copy's own bundle. */
function synth(dir: string, ...envs: string[]) {
  const r = run(dir, [process.execPath, "cli/run.cjs", "synth", ...envs], {});
  expect(r.status, r.stderr).toBe(0);
}

/**
 * The synth job of a branch that changes only config/*.yaml: the copy's code is then this
 * checkout's sources (host scripts and dashboards included), so their entry point runs in this
 * process (bundle.test keeps the bundle writing what they write) with the copy's config, into
 * the copy's cdktf.out. Setup only: cost-line.sh's own processes are what these tests run.
 */
async function synthConfigChange(dir: string, ...envs: string[]) {
  const changed = git(dir, "diff", "--name-only", repo.base, "HEAD").split("\n");
  expect(changed.filter((f) => !/^config\/[^/]+\.yaml$/.test(f))).toEqual([]);
  const r = await cliInProcess(["synth", ...envs], { GITLAB_CONFIG_DIR: join(dir, "config"), CDKTF_OUTDIR: join(dir, "cdktf.out") });
  expect(r.status, r.stderr).toBe(0);
}

const costLine = (dir: string, env: string, ci: NodeJS.ProcessEnv) => run(dir, ["bash", "scripts/ci/cost-line.sh", env], ci);

let repo: { dir: string; base: string };
beforeAll(() => {
  repo = repositoryCopy();
});

describe("the plan job's cost line", () => {
  it("shows the monthly delta against the target branch", async () => {
    const dir = mergeRequestBranch("bigger-server");
    const file = join(dir, "config", "staging.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("instanceType: t3a.xlarge", "instanceType: t3a.2xlarge"));
    git(dir, "commit", "-qam", "bigger GitLab server");
    await synthConfigChange(dir, "staging");
    const r = costLine(dir, "staging", { CI_MERGE_REQUEST_DIFF_BASE_SHA: repo.base });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // t3a.2xlarge 0.3392/h against t3a.xlarge 0.1696/h, 730 h: +123.81.
    expect(r.stdout).toMatch(/^cost: staging: \+123\.81 USD\/month vs the target branch \((\d+\.\d\d) → (\d+\.\d\d)\)\n$/);
    const [, before, after] = /\((\d+\.\d\d) → (\d+\.\d\d)\)/.exec(r.stdout)!;
    expect(Number(after) - Number(before)).toBeCloseTo(123.81, 2);
  }, 120_000);

  it("shows the new total, and says so, when there is nothing to compare with", async () => {
    const dir = mergeRequestBranch("new-environment");
    cpSync(join(dir, "config", "staging.yaml"), join(dir, "config", "qa.yaml"));
    const qa = join(dir, "config", "qa.yaml");
    writeFileSync(
      qa,
      readFileSync(qa, "utf8")
        .replace("staging.tfstate", "qa.tfstate")
        .replace("hostname: gitlab-staging", "hostname: gitlab-qa")
        .replace("sshHostname: ssh-gitlab-staging", "sshHostname: ssh-gitlab-qa")
        .replace("hostname: registry-staging", "hostname: registry-qa"),
    );
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "new environment");
    await synthConfigChange(dir, "qa", "staging", "homelab");
    const newEnvironment = costLine(dir, "qa", { CI_MERGE_REQUEST_DIFF_BASE_SHA: repo.base });
    expect(newEnvironment.stdout).toMatch(/^cost: qa: \d+\.\d\d USD\/month \(new total; no synth of the target branch to compare with\)\n$/);
    const defaultBranch = costLine(dir, "staging", {});
    expect(defaultBranch.stdout).toMatch(/^cost: staging: \d+\.\d\d USD\/month \(new total; no synth of the target branch to compare with\)\n$/);
    const docker = costLine(dir, "homelab", { CI_MERGE_REQUEST_DIFF_BASE_SHA: repo.base });
    expect(docker.stdout).toMatch(/^cost: homelab: docker host \(192\.0\.2\.10\), \d+ containers; no cloud charges\n$/);
  }, 120_000);

  it("synthesizes the target branch with its own code when the change is to the code", () => {
    // Last in the file: the change to the code gives the copy a bundle of its own.
    const dir = mergeRequestBranch("bigger-root-volume-default");
    const schema = join(dir, "config", "schema", "aws.ts");
    const from = "rootVolumeGb: z.int().min(20).max(1024).default(30)";
    writeFileSync(schema, readFileSync(schema, "utf8").replace(from, from.replace("default(30)", "default(60)")));
    git(dir, "commit", "-qam", "bigger root volume by default");
    synth(dir, "staging");
    const r = costLine(dir, "staging", { CI_MERGE_REQUEST_DIFF_BASE_SHA: repo.base });
    expect(r.stderr).toBe("");
    // About 30 GB more of gp3 at 0.0928 USD/GB-month: the target's own code (30 GB) made its
    // synth, not this checkout's (60 GB: no delta).
    const [, delta] = /^cost: staging: \+(\d+\.\d\d) USD\/month vs the target branch \(\d+\.\d\d → \d+\.\d\d\)\n$/.exec(r.stdout) ?? [];
    expect(Number(delta), r.stdout).toBeCloseTo(30 * 0.0928, 1);
  }, 120_000);
});
