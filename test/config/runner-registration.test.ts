// The runners' registration in config (tags, protected, runUntagged): defaults per platform
// that match what each runner did before Terraform registered it, refused values with the
// field, removed token keys with what to do instead, and "config says so" for a protected
// runner that takes untagged jobs: a suppression with its reason, end to end at synth.
import { App } from "cdktf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addEnvironmentStack } from "../../stacks/app";
import { asValidationError, SynthValidationError } from "../../stacks/validation-error";
import { exampleEnvironment, exampleYaml, problemsOf, validEnvironment } from "../helpers";

describe("runner registration in config", () => {
  it("defaults: aws and kubernetes take untagged jobs (as their runner did), docker's build and deploy do not, only deploy is protected", () => {
    expect(exampleEnvironment("staging").runners).toMatchObject({ tags: ["docker"], protected: false, runUntagged: true });
    expect(exampleEnvironment("production").runners).toMatchObject({ tags: ["docker"], protected: false, runUntagged: true });
    expect(exampleEnvironment("cluster").runners).toMatchObject({ tags: ["kubernetes"], protected: false, runUntagged: true });
    const homelab = exampleEnvironment("homelab");
    if (homelab.platform !== "docker") throw new Error("homelab is docker");
    expect(homelab.runners.build).toMatchObject({ tags: ["docker"], protected: false, runUntagged: false });
    expect(homelab.runners.deploy).toMatchObject({ tags: ["deploy"], protected: true, runUntagged: false });
  });

  it("refuses a runner without tags, and a tag GitLab would split", () => {
    const c = exampleYaml("homelab");
    c.runners.build.tags = [];
    expect(problemsOf(c)).toEqual([expect.stringMatching(/runners\.build\.tags: .*a runner needs at least one tag \(policy GITLAB-RUNNER-TAGGED\)/)]);
    const s = exampleYaml("staging");
    s.runners.tags = ["docker, linux"];
    expect(problemsOf(s, "staging")).toEqual([expect.stringMatching(/runners\.tags\[0\]: must be a runner tag: letters, digits/)]);
  });

  it("refuses the removed token keys, saying where the token comes from now", () => {
    const c = exampleYaml("homelab");
    c.runners.deploy.token = { hostFile: "runner_token_deploy" };
    expect(problemsOf(c)).toEqual([
      expect.stringMatching(/runners\.deploy\.token: no longer used: the `<env>-gitlab` stack registers this runner \(gitlab_user_runner\)/),
    ]);
    const k = exampleYaml("k3s-homelab");
    k.runners.token = { terraformVariable: "runner_token_k3s" };
    expect(problemsOf(k, "k3s-homelab")).toEqual([
      expect.stringMatching(/runners\.token: no longer used: the `<env>-gitlab` stack registers the runner .*Remove this key and its TF_VAR_ variable/),
    ]);
  });

  it("kubernetes: refuses the runner's namespace being GitLab's (the two releases are in different stacks)", () => {
    const k = exampleYaml("k3s-homelab");
    k.runners.namespace = k.kubernetes.namespace ?? "gitlab";
    expect(problemsOf(k, "k3s-homelab")).toEqual([expect.stringMatching(/runners\.namespace: must differ from kubernetes\.namespace/)]);
  });
});

describe("a protected runner with untagged jobs", () => {
  /** The problems `cdktf synth` reports for staging with these runner settings and suppressions. */
  function synthProblems(runners: Record<string, unknown>, suppressions: unknown[] = []): string[] {
    const y = exampleYaml("staging");
    const env = validEnvironment({ ...y, runners: { ...y.runners, ...runners }, policy: { suppressions } }, "staging");
    const outdir = mkdtempSync(join(tmpdir(), "runner-registration-"));
    try {
      const app = new App({ outdir });
      addEnvironmentStack(app, env);
      app.synth();
      return [];
    } catch (error) {
      const problem = asValidationError(error);
      if (!(problem instanceof SynthValidationError)) throw problem;
      return problem.problems.map((p) => p.replace(/\. \(.*$/, ""));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }

  it("is refused unless config says so with a suppression and its reason", () => {
    expect(synthProblems({ protected: true })).toEqual([
      expect.stringMatching(
        /^\[staging-gitlab\] GITLAB-RUNNER-PROTECTED-UNTAGGED at staging-gitlab\/runners\/fleet: a protected runner must not run untagged jobs/,
      ),
    ]);
    expect(synthProblems({ protected: true, runUntagged: false })).toEqual([]);
    const reason = {
      rule: "GITLAB-RUNNER-PROTECTED-UNTAGGED",
      path: "staging-gitlab/runners/fleet",
      reason: "this environment's only runner: every job is a protected deploy",
    };
    expect(synthProblems({ protected: true }, [reason])).toEqual([]);
  });
});
