import { describe, expect, it } from "vitest";
import { changedEnvironments, globToRegExp } from "../../scripts/ci/changed-environments";
import { planCounts } from "../../scripts/ci/plan-summary";

const ENVS = ["homelab", "production", "staging"];

describe("changed environments", () => {
  it("an environment's own file plans only that environment", () => {
    expect(changedEnvironments(["config/staging.yaml"], ENVS)).toEqual({ plan: ["staging"], removed: [] });
    expect(changedEnvironments(["config/staging.yaml", "config/homelab.yaml"], ENVS).plan).toEqual(["homelab", "staging"]);
  });

  it.each(["stacks/aws-stack.ts", "constructs/gitlab-server/aws.ts", "userdata/scripts/gitlab-bootstrap.sh", "config/schema/aws.ts", "config/load.ts", "policies/rules/docker.ts", "package-lock.json", "main.ts", "cdktf.json"])(
    "shared code (%s) plans every environment",
    (path) => {
      expect(changedEnvironments([path], ENVS).plan).toEqual(ENVS);
    },
  );

  it.each(["README.md", "docs/operations.md", "test/main.test.ts", "scripts/bench.ts", ".gitlab-ci.yml", ".ci/run", "config/environment.schema.json"])(
    "docs, tests and tooling (%s) plan nothing",
    (path) => {
      expect(changedEnvironments([path], ENVS).plan).toEqual([]);
    },
  );

  it("unknown files count as shared: a plan too many beats a missed change", () => {
    expect(changedEnvironments(["infra/new-thing.ts"], ENVS).plan).toEqual(ENVS);
  });

  it("a deleted environment file is reported, not planned", () => {
    expect(changedEnvironments(["config/qa.yaml"], ENVS)).toEqual({ plan: [], removed: ["qa"] });
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
