// The apply job refuses plans that would replace the deploy runner it runs in.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { selfReplacementProblem, type PlanJson } from "../../scripts/ci/apply-guard";
import { DEPLOY_RUNNER_CONTAINER_NAME } from "../../constructs/runner-fleet/docker";
import { REPO_ROOT, deepClone } from "../helpers";

const FIXTURES = join(__dirname, "fixtures");
const fixture = (name: string): PlanJson => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));

describe("apply guard: the deploy runner never applies its own replacement", () => {
  it("refuses a runner upgrade that replaces the deploy runner's container, naming it and the way out", () => {
    const problem = selfReplacementProblem("homelab", fixture("plan-runner-upgrade.json"));
    expect(problem).toContain("refusing to apply 'homelab'");
    expect(problem).toContain(`the container '${DEPLOY_RUNNER_CONTAINER_NAME}' (docker_container.runners_deploy_container_C4795BB5 (replaced))`);
    expect(problem).toContain("npx cdktf deploy homelab");
    expect(problem).toContain("TF_HTTP_*");
    expect(problem).toContain("docs/operations.md");
    // Only the deploy runner: the build runner's replacement is not the problem.
    expect(problem).not.toContain("runners_build_container");
  });

  it("refuses a plan that deletes the deploy runner (runners.deploy removed)", () => {
    expect(selfReplacementProblem("homelab", fixture("plan-deploy-runner-removed.json"))).toContain("runners_deploy_container_C4795BB5 (deleted)");
  });

  it("refuses a replacement in either order (create_before_destroy plans create first)", () => {
    const plan = deepClone(fixture("plan-runner-upgrade.json")) as any;
    plan.resource_changes[3].change.actions = ["create", "delete"];
    expect(selfReplacementProblem("homelab", plan)).toContain("(replaced)");
  });

  it("lets through a GitLab upgrade, in-place updates and no-ops of the runner, and plans without changes", () => {
    expect(selfReplacementProblem("homelab", fixture("plan-gitlab-upgrade.json"))).toBeUndefined();
    const inPlace = deepClone(fixture("plan-runner-upgrade.json")) as any;
    inPlace.resource_changes[3].change.actions = ["update"];
    expect(selfReplacementProblem("homelab", inPlace)).toBeUndefined();
    expect(selfReplacementProblem("staging", {})).toBeUndefined();
    expect(selfReplacementProblem("staging", { resource_changes: [] })).toBeUndefined();
  });

  it("matches the container by its name, not by its address or by other types", () => {
    const plan: PlanJson = {
      resource_changes: [
        {
          address: "docker_container.renamed_construct",
          mode: "managed",
          type: "docker_container",
          change: { actions: ["delete"], before: { name: DEPLOY_RUNNER_CONTAINER_NAME }, after: null },
        },
      ],
    };
    expect(selfReplacementProblem("homelab", plan)).toContain("docker_container.renamed_construct (deleted)");
    const image: PlanJson = {
      resource_changes: [
        {
          address: "docker_image.x",
          mode: "managed",
          type: "docker_image",
          change: { actions: ["delete", "create"], before: { name: DEPLOY_RUNNER_CONTAINER_NAME } },
        },
      ],
    };
    expect(selfReplacementProblem("homelab", image)).toBeUndefined();
    const other: PlanJson = {
      resource_changes: [
        {
          address: "docker_container.y",
          mode: "managed",
          type: "docker_container",
          change: { actions: ["delete"], before: { name: "gitlab-runner-deploy-2" } },
        },
      ],
    };
    expect(selfReplacementProblem("homelab", other)).toBeUndefined();
  });

  it("in homelab-gitlab, refuses the deploy runner's token rotation (its container is replaced with it) and lets the build runner's through", () => {
    const rotation = (role: "build" | "deploy", name: string): PlanJson => ({
      resource_changes: [
        {
          address: `gitlab_user_runner.runners_${role}_A1`,
          mode: "managed",
          type: "gitlab_user_runner",
          change: { actions: ["delete", "create"], before: {}, after: {} },
        },
        // The uploaded token is unknown until apply: the provider replaces the container.
        {
          address: `docker_container.runner-containers_${role}_container_B2`,
          mode: "managed",
          type: "docker_container",
          change: { actions: ["delete", "create"], before: { name }, after: { name } },
        },
      ],
    });
    const problem = selfReplacementProblem("homelab-gitlab", rotation("deploy", DEPLOY_RUNNER_CONTAINER_NAME));
    expect(problem).toContain("refusing to apply 'homelab-gitlab'");
    expect(problem).toContain("docker_container.runner-containers_deploy_container_B2 (replaced)");
    expect(problem).toContain("npx cdktf deploy homelab-gitlab");
    expect(selfReplacementProblem("homelab-gitlab", rotation("build", "gitlab-runner-build"))).toBeUndefined();
  });

  it("refuses the first stack's plan that hands the runner containers over to homelab-gitlab (the one-time migration)", () => {
    const plan: PlanJson = {
      resource_changes: ["build", "deploy"].map((role) => ({
        address: `docker_container.runners_${role}_container_C4795BB5`,
        mode: "managed",
        type: "docker_container",
        change: { actions: ["delete"], before: { name: `gitlab-runner-${role}` }, after: null },
      })),
    };
    expect(selfReplacementProblem("homelab", plan)).toContain("docker_container.runners_deploy_container_C4795BB5 (deleted)");
  });

  it("guards the container the docker runner fleet actually creates", () => {
    expect(DEPLOY_RUNNER_CONTAINER_NAME).toBe("gitlab-runner-deploy");
  });

  it("loads only Node and the container's name, not cdktf and the providers: it runs in every apply job", async () => {
    // Every module it reaches, however imported, as esbuild resolves them (Node's own are not files).
    const { build } = await import("esbuild");
    const r = await build({
      entryPoints: ["scripts/ci/apply-guard.ts"],
      absWorkingDir: REPO_ROOT,
      bundle: true,
      platform: "node",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    expect(Object.keys(r.metafile.inputs).sort()).toEqual(["constructs/runner-fleet/docker-container-names.ts", "scripts/ci/apply-guard.ts"]);
  });

  it("apply.sh (in CI) stops before terraform apply on such a plan, applies others, and leaves no plan.json behind", () => {
    const applySh = (planFixture: string) => {
      const dir = mkdtempSync(join(tmpdir(), "apply-"));
      for (const link of ["scripts", "node_modules", "package.json"]) symlinkSync(join(REPO_ROOT, link), join(dir, link));
      const stack = join(dir, "cdktf.out/stacks/homelab");
      mkdirSync(stack, { recursive: true });
      writeFileSync(join(stack, "plan.tfplan"), "binary plan");
      writeFileSync(join(stack, "cdk.tf.json"), JSON.stringify({ terraform: { backend: { http: {} } } }));
      const bin = join(dir, "bin");
      mkdirSync(bin);
      const log = join(dir, "terraform.log");
      writeFileSync(
        join(bin, "terraform"),
        `#!/bin/sh\nprintf '%s\\n' "$*" >> "${log}"\ncase "$*" in *"show -json plan.tfplan"*) cat "${join(FIXTURES, planFixture)}" ;; esac\n`,
      );
      chmodSync(join(bin, "terraform"), 0o755);
      const r = spawnSync("bash", [join(REPO_ROOT, "scripts/ci/apply.sh"), "homelab"], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, CI: "true", PATH: `${bin}:${process.env.PATH}` },
      });
      return { ...r, calls: readFileSync(log, "utf8").trim().split("\n"), planJsonLeft: existsSync(join(stack, "plan.json")) };
    };

    const refused = applySh("plan-runner-upgrade.json");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("npx cdktf deploy homelab");
    expect(refused.calls.map((c) => c.split(" ")[1])).toEqual(["init", "show"]);
    expect(refused.planJsonLeft).toBe(false);

    const applied = applySh("plan-gitlab-upgrade.json");
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.calls.at(-1)).toBe("-chdir=cdktf.out/stacks/homelab apply -input=false -no-color -lock-timeout=5m plan.tfplan");
    expect(applied.planJsonLeft).toBe(false);
  }, 30_000);
});
