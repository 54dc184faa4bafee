import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { changedEnvironments, globToRegExp } from "../../scripts/ci/changed-environments";
import { EXIT_REMOVED_ENVIRONMENTS, EXIT_UNKNOWN_PATHS, verdict } from "../../scripts/ci/changed-environments-cli";
import { planCounts } from "../../scripts/ci/plan-summary";
import { REPO_ROOT } from "../helpers";

const ENVS = ["homelab", "production", "staging"];

describe("changed environments", () => {
  it("an environment's own file plans only that environment", () => {
    expect(changedEnvironments(["config/staging.yaml"], ENVS)).toEqual({ plan: ["staging"], removed: [], unknown: [] });
    expect(changedEnvironments(["config/staging.yaml", "config/homelab.yaml"], ENVS).plan).toEqual(["homelab", "staging"]);
  });

  it.each([
    "stacks/aws-stack.ts",
    "constructs/gitlab-server/aws.ts",
    "userdata/scripts/gitlab-bootstrap.sh",
    "config/schema/aws.ts",
    "config/load.ts",
    "policies/rules/docker.ts",
    "package-lock.json",
    "main.ts",
    "cdktf.json",
    "scripts/ci/plan.sh",
    ".gitlab-ci.yml",
  ])("shared code (%s) plans every environment", (path) => {
    expect(changedEnvironments([path], ENVS).plan).toEqual(ENVS);
  });

  it.each(["README.md", "docs/operations.md", "test/main.test.ts", "scripts/bench.ts", ".ci/run", "config/environment.schema.json"])(
    "docs, tests and tooling (%s) plan nothing",
    (path) => {
      expect(changedEnvironments([path], ENVS).plan).toEqual([]);
    },
  );

  it("unknown files count as shared (a plan too many beats a missed change) and are listed", () => {
    expect(changedEnvironments(["infra/new-thing.ts", "README.md"], ENVS)).toEqual({ plan: ENVS, removed: [], unknown: ["infra/new-thing.ts"] });
  });

  // Needs a git checkout (the CI clone always is one).
  it.skipIf(!existsSync(join(REPO_ROOT, ".git")))("classifies every file in the repository, so no change of ours fails the environments job", () => {
    const tracked = execFileSync("git", ["ls-files"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
    expect(tracked.length).toBeGreaterThan(100);
    expect(changedEnvironments(tracked, ENVS).unknown).toEqual([]);
  });

  it("a deleted environment file is reported, not planned", () => {
    expect(changedEnvironments(["config/qa.yaml"], ENVS)).toEqual({ plan: [], removed: ["qa"], unknown: [] });
  });

  it("the CLI fails on unclassified paths, warns on removed environments, and prints the plan list", () => {
    const ok = verdict(changedEnvironments(["config/staging.yaml"], ENVS));
    expect(ok).toEqual({ stdout: "staging\n", stderr: "", code: 0 });
    const unknown = verdict(changedEnvironments(["infra/new-thing.ts", "config/qa.yaml"], ENVS));
    expect(unknown.code).toBe(EXIT_UNKNOWN_PATHS);
    expect(unknown.stderr).toContain("infra/new-thing.ts: not classified; add it to SHARED_PATHS");
    expect(unknown.stderr).toContain("config/qa.yaml was deleted: nothing is destroyed");
    const removed = verdict(changedEnvironments(["config/qa.yaml"], ENVS));
    expect(removed.code).toBe(EXIT_REMOVED_ENVIRONMENTS);
  });

  it("globs follow GitLab's rules:changes: ** spans directories, * does not", () => {
    expect(globToRegExp("stacks/**/*").test("stacks/a/b.ts")).toBe(true);
    expect(globToRegExp("config/*.ts").test("config/schema/aws.ts")).toBe(false);
    expect(globToRegExp("*.md").test("docs/x.md")).toBe(false);
    expect(globToRegExp("main.ts").test("mainXts")).toBe(false);
  });
});

describe("plan summary (GitLab's Terraform report)", () => {
  it("counts creates, updates and deletes; a replacement is a delete and a create", () => {
    const plan = {
      resource_changes: [
        { change: { actions: ["create"] } },
        { change: { actions: ["update"] } },
        { change: { actions: ["delete", "create"] } },
        { change: { actions: ["no-op"] } },
        { change: { actions: ["read"] } },
      ],
    };
    expect(planCounts(plan)).toEqual({ create: 2, update: 1, delete: 1 });
    expect(planCounts({})).toEqual({ create: 0, update: 0, delete: 0 });
  });
});
