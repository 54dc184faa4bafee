// .gitlab-ci.yml: valid for GitLab (gitlab-ci-local 4.73.0, offline), in step with the
// environments and the changed-environments mapping, and showing the right jobs per change.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { SHARED_PATHS } from "../../scripts/ci/changed-environments";
import { EXIT_REMOVED_ENVIRONMENTS } from "../../scripts/ci/changed-environments-cli";
import { CONFIG_DIR, REPO_ROOT } from "../examples";

const GITLAB_CI_LOCAL = join(REPO_ROOT, "node_modules/.bin/gitlab-ci-local");
const text = readFileSync(join(REPO_ROOT, ".gitlab-ci.yml"), "utf8");
/** `!reference` is GitLab's tag; for reading the structure, keep its argument. */
const ci = parse(text, { customTags: [{ tag: "!reference", collection: "seq", resolve: (v: unknown) => ({ reference: v }) }] }) as Record<string, any>;
const environments = readdirSync(CONFIG_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.replace(/\.yaml$/, ""))
  .sort();

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=ci", ...args], { cwd, encoding: "utf8" });

/** What `make` returns for `key`, made once: the tests only read clones and listings. */
const memo = new Map<string, unknown>();
function once<T>(key: string, make: () => T): T {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key) as T;
}

/** A clone of the repository (with an origin, as gitlab-ci-local compares changes against it) plus one commit touching `paths`. */
function cloneWithChange(paths: string[]): string {
  return once(`clone\n${paths.join("\n")}`, () => {
    const source = mkdtempSync(join(tmpdir(), "ci-src-"));
    git(source, "init", "-q", "-b", "main");
    for (const f of [".gitlab-ci.yml", ...paths.filter((p) => p !== ".gitlab-ci.yml")]) {
      const target = join(source, f);
      execFileSync("mkdir", ["-p", join(target, "..")]);
      writeFileSync(target, f === ".gitlab-ci.yml" ? text : "base\n");
    }
    git(source, "add", "-A");
    git(source, "commit", "-qm", "base");
    const clone = mkdtempSync(join(tmpdir(), "ci-clone-"));
    git(clone, "clone", "-q", source, ".");
    git(clone, "checkout", "-q", "-b", "change");
    for (const p of paths) writeFileSync(join(clone, p), "changed\n");
    git(clone, "commit", "-qam", "change");
    return clone;
  });
}

interface Listing {
  readonly status: number | null;
  readonly output: string;
  /** Every job, whatever its rules (`--list-all`). */
  readonly all: readonly string[];
  /** The jobs the pipeline creates: rules resolving to `when: never` leave a job out (`--list`). */
  readonly jobs: readonly string[];
}

/**
 * The jobs of a merge request's pipeline for the clone's change, from one `--list-json` run.
 * The JSON schema is checked only where validity is the claim (`validate`): elsewhere it
 * would be half of each run's CPU, for the same answer.
 */
function listJobs(cwd: string, validate = false): Listing {
  return once(`list\n${cwd}\n${validate}`, () => {
    const args = ["--list-json", "--variable", "CI_PIPELINE_SOURCE=merge_request_event"];
    if (!validate) args.push("--no-json-schema-validation");
    const r = spawnSync(GITLAB_CI_LOCAL, args, { cwd, encoding: "utf8", env: { ...process.env, CI: undefined } });
    // The JSON follows gitlab-ci-local's warnings on stdout.
    const start = r.stdout.search(/^\[$/m);
    const listed = (start < 0 ? [] : JSON.parse(r.stdout.slice(start))) as { name: string; when: string }[];
    const jobs = listed.filter((j) => j.when !== "never").map((j) => j.name);
    return { status: r.status, output: `${r.stdout}${r.stderr}`, all: listed.map((j) => j.name), jobs };
  });
}

/** The configuration as GitLab merges it (extends, defaults), from gitlab-ci-local --preview. */
function preview(cwd: string): Record<string, any> {
  // Validity is checked once, by the --list-json run that is about it.
  const r = spawnSync(GITLAB_CI_LOCAL, ["--preview", "--no-json-schema-validation"], { cwd, encoding: "utf8", env: { ...process.env, CI: undefined } });
  if (r.status !== 0) throw new Error(`gitlab-ci-local --preview failed:\n${r.stdout}${r.stderr}`);
  return parse(r.stdout.slice(r.stdout.indexOf("---\n")), { maxAliasCount: -1 }) as Record<string, any>;
}

/** Seconds Terraform's http backend keeps retrying: go-retryablehttp's backoff, min·2^n capped at max, per retry. */
function retrySeconds(variables: Record<string, string>): number {
  const [retries, min, max] = [variables.TF_HTTP_RETRY_MAX, variables.TF_HTTP_RETRY_WAIT_MIN, variables.TF_HTTP_RETRY_WAIT_MAX].map(Number);
  let total = 0;
  for (let n = 0; n < retries!; n++) total += Math.min(min! * 2 ** n, max!);
  return total;
}

describe(".gitlab-ci.yml", () => {
  it("has a plan and an apply job for every stack of every environment (<env>, <env>-gitlab), and no others", () => {
    const jobs = Object.keys(ci).filter((k) => /^(plan|apply):/.test(k));
    expect(jobs.sort()).toEqual(environments.flatMap((e) => [`apply:${e}`, `plan:${e}`, `apply:${e}-gitlab`, `plan:${e}-gitlab`]).sort());
    for (const env of environments) {
      for (const stack of [env, `${env}-gitlab`]) {
        expect(ci[`plan:${stack}`].variables).toMatchObject({ ENVIRONMENT: env, STACK: stack });
        expect(ci[`apply:${stack}`].variables).toMatchObject({ ENVIRONMENT: env, STACK: stack });
        expect(ci[`plan:${stack}`].rules[0].changes.paths).toEqual([`config/${env}.yaml`]);
        // The same rules: the second stack is planned and applied whenever the first is, by hand where the first is.
        expect(JSON.stringify(ci[`plan:${stack}`].rules)).toBe(JSON.stringify(ci[`plan:${env}`].rules));
        expect(JSON.stringify(ci[`apply:${stack}`].rules)).toBe(JSON.stringify(ci[`apply:${env}`].rules));
      }
      // The homelab applies a plan of its own, made on the deploy runner (test/ci/homelab-pipeline.test.ts).
      expect(ci[`apply:${env}`].needs).toEqual(env === "homelab" ? ["synth"] : ["synth", `plan:${env}`]);
      // The second stack after the first.
      expect(ci[`apply:${env}-gitlab`].needs).toEqual(env === "homelab" ? ["synth", "apply:homelab"] : ["synth", `plan:${env}-gitlab`, `apply:${env}`]);
      expect(ci[`plan:${env}-gitlab`].extends).toBe(".plan-gitlab");
    }
    expect(ci["apply:homelab-gitlab"].variables.PLAN_BEFORE_APPLY).toBe("true");
  });

  it("uses the same shared paths as scripts/ci/changed-environments.ts", () => {
    expect(ci[".shared-paths"].paths).toEqual([...SHARED_PATHS]);
  });

  it("synthesizes, plans and applies nothing unless the checks passed", () => {
    expect(ci.synth.needs).toEqual(["test", { job: "environments", optional: true }]);
    expect(ci[".terraform"].needs).toEqual(["synth"]);
    expect(ci.test.script).toEqual(["bash .ci/run"]);
  });

  it("checks each merge request's paths with the changed-environments CLI, a removed environment as a warning", () => {
    expect(ci.environments.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(ci.environments.script.at(-1)).toBe('node --require tsx/cjs scripts/ci/changed-environments-cli.ts "$CI_MERGE_REQUEST_DIFF_BASE_SHA"');
    expect(ci.environments.allow_failure).toEqual({ exit_codes: [EXIT_REMOVED_ENVIRONMENTS] });
    expect(ci.environments.variables.GIT_DEPTH).toBe("0");
  });

  it("applies only on the default branch, on protected deploy runners, production by hand", () => {
    expect(ci[".apply"].tags).toEqual(["deploy"]);
    for (const env of environments) expect(ci[`apply:${env}`].rules[0]).toEqual({ if: "$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH", when: "never" });
    expect(ci["apply:production"].rules.slice(1).map((r: any) => r.when)).toEqual(["manual", "manual"]);
    expect(ci["apply:staging"].rules.slice(1).map((r: any) => r.when)).toEqual([undefined, undefined]);
    // The kubernetes production shape waits for a click too; the k3s homelab applies like the docker one.
    expect(ci["apply:cluster"].rules.slice(1).map((r: any) => r.when)).toEqual(["manual", "manual"]);
    expect(ci["apply:k3s-homelab"].rules.slice(1).map((r: any) => r.when)).toEqual([undefined, undefined]);
  });

  it("publishes each stack's plan as its own Terraform report, with its own state, and keeps state credentials in CI variables", () => {
    expect(ci[".plan"].artifacts.reports.terraform).toBe("cdktf.out/stacks/${STACK}/plan-report.json");
    expect(ci[".plan"].artifacts.paths).toEqual(["cdktf.out/stacks/${STACK}/plan.tfplan", "cdktf.out/stacks/${STACK}/.terraform.lock.hcl"]);
    expect(ci[".terraform"].variables.TF_HTTP_PASSWORD).toBe("${CI_JOB_TOKEN}");
    expect(ci[".terraform"].variables.TF_HTTP_ADDRESS).toBe("${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/terraform/state/${STACK}");
    expect(ci[".terraform"].resource_group).toBe("terraform-${STACK}");
    expect(ci[".plan"].script[0]).toBe('bash scripts/ci/plan.sh "$STACK"');
    expect(ci[".apply"].script).toEqual(['bash scripts/ci/apply.sh "$STACK"']);
    // The second stack costs nothing: no cost line.
    expect(ci[".plan-gitlab"].script).toEqual(['bash scripts/ci/plan.sh "$STACK"']);
  });

  it("is valid for GitLab (gitlab-ci-local, its JSON schema)", () => {
    const r = listJobs(cloneWithChange(["README.md"]), true);
    expect(r.output).toContain("json schema validated");
    expect(r.status, r.output).toBe(0);
    expect(r.all).toEqual(expect.arrayContaining(["test", "synth", ...environments.map((e) => `plan:${e}`)]));
  });

  it("plans only the environment whose file changed", () => {
    const r = listJobs(cloneWithChange(["config/staging.yaml"]));
    expect(r.status, r.output).toBe(0);
    expect(r.jobs.filter((j) => j.startsWith("plan:")).sort()).toEqual(["plan:staging", "plan:staging-gitlab"]);
  });

  it("plans every environment when shared code changed, and none for docs", () => {
    const shared = listJobs(cloneWithChange(["stacks/aws-stack.ts"]));
    expect(shared.status, shared.output).toBe(0);
    expect(shared.jobs.filter((j) => j.startsWith("plan:")).sort()).toEqual(environments.flatMap((e) => [`plan:${e}`, `plan:${e}-gitlab`]).sort());
    const docs = listJobs(cloneWithChange(["README.md"]), true);
    expect(docs.status, docs.output).toBe(0);
    expect(docs.jobs).toContain("test");
    expect(docs.jobs.filter((j) => j.startsWith("plan:"))).toEqual([]);
  });

  it("keeps retrying GitLab-managed state for about 10 minutes while a replaced GitLab container restarts", () => {
    const v = ci[".terraform"].variables;
    for (const k of ["TF_HTTP_RETRY_MAX", "TF_HTTP_RETRY_WAIT_MIN", "TF_HTTP_RETRY_WAIT_MAX"]) expect(v[k], k).toMatch(/^[1-9][0-9]*$/);
    expect(retrySeconds(v)).toBeGreaterThanOrEqual(540);
    expect(retrySeconds(v)).toBeLessThanOrEqual(900);
    // The workstation instructions (docs/operations.md, 1.1) use the same values.
    const docs = readFileSync(join(REPO_ROOT, "docs/operations.md"), "utf8");
    expect(docs).toContain(
      `export TF_HTTP_RETRY_MAX=${v.TF_HTTP_RETRY_MAX} TF_HTTP_RETRY_WAIT_MIN=${v.TF_HTTP_RETRY_WAIT_MIN} TF_HTTP_RETRY_WAIT_MAX=${v.TF_HTTP_RETRY_WAIT_MAX}`,
    );
    // Terraform's defaults (2 retries, 1 to 30 s) give up after 3 s.
    expect(retrySeconds({ TF_HTTP_RETRY_MAX: "2", TF_HTTP_RETRY_WAIT_MIN: "1", TF_HTTP_RETRY_WAIT_MAX: "30" })).toBe(3);
  });

  it("installs Terraform where a non-root job user can write, and puts it on PATH for the whole job", () => {
    const t = ci[".terraform"];
    expect(t.variables.TERRAFORM_INSTALL_DIR).toBe("$CI_PROJECT_DIR/.bin");
    expect(t.before_script[0]).toBe('export PATH="$TERRAFORM_INSTALL_DIR:$PATH"');
    expect(t.before_script[1]).toBe('bash scripts/ci/install-terraform.sh "$TERRAFORM_VERSION" "$TERRAFORM_INSTALL_DIR"');
    expect(t.before_script.join("\n")).not.toContain("/usr/local/bin");
    // Runtime dependencies only: cdktf-cli's native node-pty is not built on the deploy runner's Alpine.
    expect(t.before_script.at(-1)).toBe("npm ci --no-audit --no-fund --omit=dev");
    const deps = Object.keys(JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).dependencies);
    expect(deps).toContain("tsx");
  });

  it("plans in the default image and applies on the deploy runner, both with the state retries and Terraform on PATH", () => {
    const merged = preview(cloneWithChange(["README.md"]));
    for (const env of environments) {
      for (const stack of [env, `${env}-gitlab`]) {
        const plan = merged[`plan:${stack}`];
        const apply = merged[`apply:${stack}`];
        expect(plan.image.name).toBe(ci.default.image);
        expect(plan.tags ?? []).not.toContain("deploy");
        expect(apply.tags).toEqual(["deploy"]);
        for (const job of [plan, apply]) {
          expect(job.before_script[0]).toBe('export PATH="$TERRAFORM_INSTALL_DIR:$PATH"');
          expect(job.variables).toMatchObject({
            ENVIRONMENT: env,
            STACK: stack,
            TERRAFORM_INSTALL_DIR: "$CI_PROJECT_DIR/.bin",
            TF_HTTP_RETRY_MAX: ci[".terraform"].variables.TF_HTTP_RETRY_MAX,
          });
          expect(job.environment.name).toBe("${ENVIRONMENT}");
        }
      }
    }
  });
});
