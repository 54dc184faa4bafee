// The second stack of each environment, `<env>-gitlab`: its own state, its GitLab provider on
// the environment's API, the automation token read by name where the platform keeps it, and
// no reference to anything the stack does not declare itself (it applies on its own state).
import { describe, expect, it } from "vitest";
import { exampleEnvironments, exampleStack, exampleYaml, synthStacksToDisk, validEnvironment, type SynthesizedStack } from "../helpers";

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
    expect(stack.provider.gitlab).toEqual([{ base_url: `https://${exampleYaml("homelab").gitlab.hostname ?? "gitlab"}.${exampleYaml("homelab").domain}/api/v4` }]);
    expect(stack.provider.docker).toEqual([{ disable_docker_daemon_check: true }]);
    expect(stack.data ?? {}).toEqual({});
  });

  it.each(["k3s-homelab", "cluster"])("kubernetes (%s): the token is the `token` key of the gitlab-automation-token Secret in GitLab's namespace, on the first stack's cluster", (name) => {
    const stack = exampleStack(`${name}-gitlab`);
    const first = exampleStack(name);
    const namespace = exampleYaml(name).kubernetes.namespace ?? "gitlab";
    expect(stack.data?.kubernetes_secret).toEqual({
      "automation-token": expect.objectContaining({ metadata: { name: "gitlab-automation-token", namespace } }),
    });
    expect(stack.provider.gitlab).toEqual([{ base_url: expect.stringMatching(/^https:\/\/[a-z0-9.-]+\/api\/v4$/), token: '${data.kubernetes_secret.automation-token.data["token"]}' }]);
    expect(stack.provider.kubernetes).toEqual(first.provider.kubernetes);
    expect(stack.provider.helm).toEqual(first.provider.helm);
  });

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
    const keyed = validEnvironment({ ...exampleYaml("staging"), state: { backend: "s3", bucket: "b-state", region: "eu-west-3", key: "platform/staging.tfstate" } }, "staging");
    const stacks = synthStacksToDisk([local, keyed]);
    expect(stacks.homelab!.terraform.backend).toEqual({ local: { path: "../../../terraform.homelab.tfstate" } });
    expect(stacks["homelab-gitlab"]!.terraform.backend).toEqual({ local: { path: "../../../terraform.homelab-gitlab.tfstate" } });
    expect(stacks.staging!.terraform.backend.s3.key).toBe("platform/staging.tfstate");
    expect(stacks["staging-gitlab"]!.terraform.backend.s3.key).toBe("platform/staging-gitlab.tfstate");
  });
});
