// The second stack of each environment, `<env>-gitlab`: its own state, its GitLab provider on
// the environment's API, the automation token read by name where the platform keeps it, and
// no reference to anything the stack does not declare itself (it applies on its own state).
import { describe, expect, it } from "vitest";
import { AUTOMATION_TOKEN_CONTAINER_PATH, GITLAB_CONTAINER_NAME } from "../../constructs/gitlab-server/docker-names";
import {
  exampleEnvironments,
  exampleStack,
  exampleYaml,
  resources,
  synthEnvironmentStacks,
  synthStacksToDisk,
  validEnvironment,
  type SynthesizedStack,
} from "../helpers";

/** Every `${type.name…}` a stack's JSON refers to that is a resource or data source. */
function references(stack: SynthesizedStack): string[] {
  const found = JSON.stringify(stack).match(/\$\{(data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+/g) ?? [];
  return [...new Set(found.map((r) => r.slice(2)))].filter((r) => !/^(var|local|each|count|path|self|terraform)\./.test(r));
}

function declared(stack: SynthesizedStack): Set<string> {
  const names = new Set<string>();
  for (const [type, byName] of Object.entries(stack.resource ?? {})) for (const name of Object.keys(byName)) names.add(`${type}.${name}`);
  for (const [type, byName] of Object.entries(stack.data ?? {})) for (const name of Object.keys(byName)) names.add(`data.${type}.${name}`);
  return names;
}

describe("<env>-gitlab: the stack of what lives inside GitLab", () => {
  it("aws: the GitLab provider on the web host's API, its token the value of the <env>-gitlab/automation-token secret, in the environment's region", () => {
    const stack = exampleStack("staging-gitlab");
    expect(stack.data?.aws_secretsmanager_secret_version).toEqual({
      "automation-token": expect.objectContaining({ secret_id: "staging-gitlab/automation-token" }),
    });
    expect(stack.provider.gitlab).toEqual([
      { base_url: "https://gitlab-staging.example.com/api/v4", token: "${data.aws_secretsmanager_secret_version.automation-token.secret_string}" },
    ]);
    expect(stack.provider.aws).toEqual([expect.objectContaining({ region: exampleYaml("staging").aws.region })]);
    expect(stack.provider.aws[0].default_tags[0].tags).toMatchObject({ Environment: "staging", ManagedBy: "gitlab-platform" });
  });

  it("docker: no token attribute (the provider reads GITLAB_TOKEN), a Docker provider that needs no daemon to plan", () => {
    const stack = exampleStack("homelab-gitlab");
    expect(stack.provider.gitlab).toEqual([
      { base_url: `https://${exampleYaml("homelab").gitlab.hostname ?? "gitlab"}.${exampleYaml("homelab").domain}/api/v4` },
    ]);
    expect(stack.provider.docker).toEqual([{ disable_docker_daemon_check: true }]);
    expect(Object.keys(stack.data ?? {})).not.toContain("aws_secretsmanager_secret_version");
    expect(Object.keys(stack.data ?? {})).not.toContain("kubernetes_secret_v1");
  });

  it("docker: the CLI's container name for the token file is the GitLab container's", () => {
    const names = resources(exampleStack("homelab"), "docker_container").map((c) => c.name);
    expect(names).toContain(GITLAB_CONTAINER_NAME);
    expect(AUTOMATION_TOKEN_CONTAINER_PATH.startsWith("/etc/gitlab/")).toBe(true);
  });

  it.each(["k3s-homelab", "cluster"])(
    "kubernetes (%s): the token is the `token` key of the gitlab-automation-token Secret in GitLab's namespace, on the first stack's cluster",
    (name) => {
      const stack = exampleStack(`${name}-gitlab`);
      const first = exampleStack(name);
      const namespace = exampleYaml(name).kubernetes.namespace ?? "gitlab";
      expect(stack.data?.kubernetes_secret_v1).toEqual({
        "automation-token": expect.objectContaining({ metadata: { name: "gitlab-automation-token", namespace } }),
      });
      expect(stack.provider.gitlab).toEqual([
        { base_url: expect.stringMatching(/^https:\/\/[a-z0-9.-]+\/api\/v4$/), token: '${data.kubernetes_secret_v1.automation-token.data["token"]}' },
      ]);
      expect(stack.provider.kubernetes).toEqual(first.provider.kubernetes);
      expect(stack.provider.helm).toEqual(first.provider.helm);
    },
  );

  it.each(exampleEnvironments().map((e) => e.name))("%s-gitlab refers only to what it declares itself: no reference to the first stack", (name) => {
    const stack = exampleStack(`${name}-gitlab`);
    const own = declared(stack);
    expect(references(stack).filter((r) => ![...own].some((d) => r === d))).toEqual([]);
    expect(JSON.stringify(stack)).not.toMatch(/terraform_remote_state|cross-stack-output/);
  });

  it("the reference check sees references (it is not vacuous)", () => {
    expect(references(exampleStack("staging-gitlab"))).toContain("data.aws_secretsmanager_secret_version.automation-token");
    expect(references(exampleStack("staging"))).not.toEqual([]);
  });

  it("its own state beside the first's, with the same backend kind", () => {
    const stacks = synthStacksToDisk(exampleEnvironments());
    const backends = Object.fromEntries(Object.entries(stacks).map(([name, stack]) => [name, stack.terraform.backend]));
    expect(backends).toMatchObject({
      "cluster-gitlab": { s3: expect.objectContaining({ bucket: "example-gitlab-platform-tfstate", key: "gitlab-platform/cluster-gitlab.tfstate" }) },
      "homelab-gitlab": { http: {} },
      "k3s-homelab-gitlab": { http: {} },
      "production-gitlab": { s3: expect.objectContaining({ key: "gitlab-platform/production-gitlab.tfstate" }) },
      "staging-gitlab": { s3: expect.objectContaining({ key: "gitlab-platform/staging-gitlab.tfstate", use_lockfile: true }) },
    });
  });

  it("local state and a key named in config get their own file and object", () => {
    const local = validEnvironment({ ...exampleYaml("homelab"), state: { backend: "local" } }, "homelab");
    const keyed = validEnvironment(
      { ...exampleYaml("staging"), state: { backend: "s3", bucket: "b-state", region: "eu-west-3", key: "platform/staging.tfstate" } },
      "staging",
    );
    const stacks = synthStacksToDisk([local, keyed]);
    expect(stacks.homelab!.terraform.backend).toEqual({ local: { path: "../../../terraform.homelab.tfstate" } });
    expect(stacks["homelab-gitlab"]!.terraform.backend).toEqual({ local: { path: "../../../terraform.homelab-gitlab.tfstate" } });
    expect(stacks.staging!.terraform.backend.s3.key).toBe("platform/staging.tfstate");
    expect(stacks["staging-gitlab"]!.terraform.backend.s3.key).toBe("platform/staging-gitlab.tfstate");
  });
});

/** The second stack of an example changed by `change` (its YAML as an object). */
function contentStack(example: string, change: (c: Record<string, any>) => void): SynthesizedStack {
  const c = exampleYaml(example);
  change(c);
  return synthEnvironmentStacks(validEnvironment(c, example))[`${example}-gitlab`]!;
}

const DEFAULT_PROTECTIONS = [
  { branch: "main", push_access_level: "maintainer", merge_access_level: "developer", allow_force_push: false },
  { branch: "develop", push_access_level: "maintainer", merge_access_level: "developer", allow_force_push: false },
];

describe("gitlab: settings, groups, projects and branch protections in <env>-gitlab", () => {
  it.each(exampleEnvironments().map((e) => e.name))("%s: one gitlab_application_settings with the reviewed settings, sign-up off by default", (name) => {
    const all = resources(exampleStack(`${name}-gitlab`), "gitlab_application_settings");
    expect(all).toHaveLength(1);
    const { "//": _, ...settings } = all[0];
    const yaml = exampleYaml(name).gitlab.settings ?? {};
    expect(settings).toEqual({
      signup_enabled: false,
      default_project_visibility: yaml.defaultProjectVisibility ?? "private",
      default_group_visibility: yaml.defaultGroupVisibility ?? "private",
      require_two_factor_authentication: yaml.requireTwoFactor ?? false,
      two_factor_grace_period: yaml.twoFactorGracePeriodHours ?? 48,
    });
  });

  it("production: 2FA required with a 48-hour grace period", () => {
    expect(resources(exampleStack("production-gitlab"), "gitlab_application_settings")[0]).toMatchObject({
      require_two_factor_authentication: true,
      two_factor_grace_period: 48,
    });
  });

  it("staging: its group and project, protected against destroy; each project gets the default protections on main and develop", () => {
    const stack = exampleStack("staging-gitlab");
    const [group] = resources(stack, "gitlab_group");
    expect(group).toMatchObject({ path: "example", name: "Example", visibility_level: "private", lifecycle: { prevent_destroy: true } });
    expect(group.parent_id).toBeUndefined();
    const [project] = resources(stack, "gitlab_project");
    const groupAddress = Object.keys(stack.resource.gitlab_group!)[0];
    expect(project).toMatchObject({
      name: "app",
      path: "app",
      namespace_id: `\${gitlab_group.${groupAddress}.id}`,
      visibility_level: "private",
      description: "The application, mirrored from GitLab.com",
      only_allow_merge_if_pipeline_succeeds: true,
      archive_on_destroy: true,
      lifecycle: { prevent_destroy: true },
    });
    const projectAddress = Object.keys(stack.resource.gitlab_project!)[0];
    const protections = resources(stack, "gitlab_branch_protection").map(({ "//": _, ...p }) => p);
    const byBranch = (a: { branch: string }, b: { branch: string }) => a.branch.localeCompare(b.branch);
    expect(protections.sort(byBranch)).toEqual(DEFAULT_PROTECTIONS.map((p) => ({ ...p, project: `\${gitlab_project.${projectAddress}.id}` })).sort(byBranch));
  });

  it("production: a subgroup under its managed parent, and the configured protections (release/* too) on every project", () => {
    const stack = exampleStack("production-gitlab");
    const groups = stack.resource.gitlab_group!;
    const parent = Object.keys(groups).find((k) => groups[k].path === "example")!;
    const sub = Object.values(groups).find((g: any) => g.path === "services");
    expect(sub).toMatchObject({ name: "services", parent_id: `\${gitlab_group.${parent}.id}` });
    const projects = stack.resource.gitlab_project!;
    expect(
      Object.values(projects)
        .map((p: any) => p.path)
        .sort(),
    ).toEqual(["app", "payments"]);
    const protections = resources(stack, "gitlab_branch_protection");
    expect(protections).toHaveLength(6);
    for (const id of Object.keys(projects)) {
      const mine = protections.filter((p) => p.project === `\${gitlab_project.${id}.id}`);
      expect(mine.map((p) => [p.branch, p.push_access_level, p.merge_access_level]).sort()).toEqual([
        ["develop", "maintainer", "developer"],
        ["main", "maintainer", "developer"],
        ["release/*", "maintainer", "maintainer"],
      ]);
    }
  });

  it("homelab: a project in a group GitLab already has, looked up by its full path (data gitlab_group), not created", () => {
    const stack = exampleStack("homelab-gitlab");
    expect(resources(stack, "gitlab_group")).toEqual([]);
    const lookups = stack.data!.gitlab_group!;
    const [id] = Object.keys(lookups);
    expect(lookups[id!]).toMatchObject({ full_path: "homelab" });
    expect(resources(stack, "gitlab_project")[0]).toMatchObject({ path: "infrastructure", namespace_id: `\${data.gitlab_group.${id}.group_id}` });
  });

  it("no projects, no protections: cluster and k3s-homelab manage settings only (and their runner)", () => {
    for (const name of ["cluster-gitlab", "k3s-homelab-gitlab"]) {
      const stack = exampleStack(name);
      // The runner, its token Secret and chart: test/stacks/runner-tokens.test.ts.
      expect(Object.keys(stack.resource).sort()).toEqual(["gitlab_application_settings", "gitlab_user_runner", "helm_release", "kubernetes_secret_v1"]);
    }
  });

  it("a changed protection, project visibility and sign-up reach the resources", () => {
    const stack = contentStack("staging", (c) => {
      c.gitlab.settings.signupEnabled = true;
      c.gitlab.projects[0].visibility = "internal";
      c.gitlab.groups[0].visibility = "internal";
      c.gitlab.branchProtections = [{ branch: "main", push: "no one", merge: "maintainer", allowForcePush: true }];
    });
    expect(resources(stack, "gitlab_application_settings")[0].signup_enabled).toBe(true);
    expect(resources(stack, "gitlab_project")[0].visibility_level).toBe("internal");
    expect(resources(stack, "gitlab_branch_protection").map(({ "//": _, project: __, ...p }) => p)).toEqual([
      { branch: "main", push_access_level: "no one", merge_access_level: "maintainer", allow_force_push: true },
    ]);
  });
});
