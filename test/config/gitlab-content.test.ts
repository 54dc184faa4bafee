// The `gitlab:` fields for what lives inside GitLab (settings, groups, projects, branch
// protections): defaults, and each mistake reported with the file and the field.
import { describe, expect, it } from "vitest";
import { exampleYaml, problemsOf, validEnvironment } from "../helpers";

const staging = () => exampleYaml("staging");

describe("gitlab: settings, groups, projects, branchProtections", () => {
  it("defaults: sign-up off, everything private, no 2FA requirement, no groups or projects, main and develop protected", () => {
    const c = staging();
    for (const key of ["settings", "groups", "projects", "branchProtections"]) delete c.gitlab[key];
    const g = validEnvironment(c, "staging").gitlab;
    expect(g.settings).toEqual({
      signupEnabled: false,
      defaultProjectVisibility: "private",
      defaultGroupVisibility: "private",
      requireTwoFactor: false,
      twoFactorGracePeriodHours: 48,
    });
    expect(g.groups).toEqual([]);
    expect(g.projects).toEqual([]);
    expect(g.branchProtections).toEqual([
      { branch: "main", push: "maintainer", merge: "developer", allowForcePush: false },
      { branch: "develop", push: "maintainer", merge: "developer", allowForcePush: false },
    ]);
  });

  it("a project requires its pipeline to merge unless config says otherwise", () => {
    const c = staging();
    expect(validEnvironment(c, "staging").gitlab.projects[0]!.requirePipeline).toBe(true);
    c.gitlab.projects[0].requirePipeline = false;
    expect(validEnvironment(c, "staging").gitlab.projects[0]!.requirePipeline).toBe(false);
  });

  it("names the file and field of a wrong value", () => {
    const c = staging();
    c.gitlab.settings.defaultProjectVisibility = "secret";
    c.gitlab.settings.twoFactorGracePeriodHours = -1;
    c.gitlab.settings.signupEnable = true;
    c.gitlab.groups[0].path = "/example";
    c.gitlab.projects[0].path = "app";
    c.gitlab.branchProtections = [{ branch: "main", push: "maintainers" }, { branch: "bad branch" }];
    const problems = problemsOf(c, "staging");
    expect(problems).toEqual(
      expect.arrayContaining([
        "config/staging.yaml: gitlab.settings.defaultProjectVisibility: must be one of 'private', 'internal', 'public'",
        expect.stringMatching(/^config\/staging\.yaml: gitlab\.settings\.twoFactorGracePeriodHours: must be at least 0/),
        expect.stringMatching(/^config\/staging\.yaml: gitlab\.settings\.signupEnable: unknown key.*signupEnabled/),
        "config/staging.yaml: gitlab.groups[0].path: must be a group's full path like 'platform' or 'platform/tools'",
        "config/staging.yaml: gitlab.projects[0].path: must be '<group full path>/<project>', e.g. 'platform/infrastructure'",
        "config/staging.yaml: gitlab.branchProtections[0].push: must be one of 'no one', 'developer', 'maintainer', 'admin'",
        "config/staging.yaml: gitlab.branchProtections[1].branch: must be a branch name or wildcard like 'main' or 'release/*'",
      ]),
    );
  });

  it("refuses a path segment GitLab refuses", () => {
    const c = staging();
    c.gitlab.projects[0].path = "example/app.git";
    expect(problemsOf(c, "staging")).toContain("config/staging.yaml: gitlab.projects[0].path: must not have a segment ending in '.', '.git' or '.atom'");
  });

  it("refuses duplicates, a project on a group's path, and anything more visible than its managed group", () => {
    const c = staging();
    c.gitlab.groups = [{ path: "example" }, { path: "example" }, { path: "example/tools", visibility: "public" }];
    c.gitlab.projects = [{ path: "example/app", visibility: "internal" }, { path: "example/app" }, { path: "example/tools" }];
    c.gitlab.branchProtections = [{ branch: "main" }, { branch: "main" }];
    expect(problemsOf(c, "staging")).toEqual([
      "config/staging.yaml: gitlab.groups[1].path: 'example' is already gitlab.groups[0]: list each once",
      "config/staging.yaml: gitlab.projects[1].path: 'example/app' is already gitlab.projects[0]: list each once",
      "config/staging.yaml: gitlab.branchProtections[1].branch: 'main' is already gitlab.branchProtections[0]: list each once",
      "config/staging.yaml: gitlab.groups[2].visibility: 'public' is more visible than its group example ('private'): GitLab refuses it",
      "config/staging.yaml: gitlab.projects[0].visibility: 'internal' is more visible than its group example ('private'): GitLab refuses it",
      "config/staging.yaml: gitlab.projects[2].path: 'example/tools' is also a group in gitlab.groups: a project and a group cannot share a path",
    ]);
  });

  it("keeps sign-up off with SSO, and reports it beside other problems in one run", () => {
    const c = exampleYaml("homelab");
    c.gitlab.settings = { signupEnabled: true };
    c.gitlab.sshPort = 99999;
    const problems = problemsOf(c, "homelab");
    expect(problems).toContain(
      "config/homelab.yaml: gitlab.settings.signupEnabled: must be false with gitlab.sso: accounts come from SSO, and a password sign-up would bypass it",
    );
    expect(problems.some((p) => p.includes("gitlab.sshPort"))).toBe(true);
    delete c.gitlab.sso;
    c.gitlab.sshPort = 2222;
    expect(validEnvironment(c, "homelab").gitlab.settings.signupEnabled).toBe(true);
  });

  it("the same fields on kubernetes", () => {
    const c = exampleYaml("cluster");
    c.gitlab.projects = [{ path: "platform/charts", visibility: "public" }];
    c.gitlab.groups = [{ path: "platform", visibility: "internal" }];
    expect(problemsOf(c, "cluster")).toEqual([
      "config/cluster.yaml: gitlab.projects[0].visibility: 'public' is more visible than its group platform ('internal'): GitLab refuses it",
    ]);
  });
});

describe("environment names and the second stack's", () => {
  it("refuses an environment file named <x>-gitlab: it would be the second stack of <x>", () => {
    expect(problemsOf(exampleYaml("staging"), "qa-gitlab")).toEqual([
      "config/qa-gitlab.yaml: (file): the file name 'qa-gitlab' must not end in '-gitlab': every environment's second stack is named <env>-gitlab (qa-gitlab is the second stack of an environment 'qa'): rename it",
    ]);
    expect(validEnvironment({ ...exampleYaml("staging") }, "gitlab").name).toBe("gitlab");
  });
});
