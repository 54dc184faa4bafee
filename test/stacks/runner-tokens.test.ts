// Each runner token's path, per platform, from the gitlab_user_runner that creates it (the
// `<env>-gitlab` stack) to where the runner reads it, through names both stacks derive from the
// same config (no cross-stack reference); and no output of any stack carries a token.
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { RUNNER_TOKEN_FILE } from "../../constructs/runner-fleet/docker";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import {
  exampleEnvironments,
  exampleStack,
  exampleYaml,
  resources,
  stackNamesOf,
  synthEnvironmentStacks,
  userDataText,
  validEnvironment,
  type SynthesizedStack,
} from "../helpers";

/** The one gitlab_user_runner of a role in a second stack: its address and config. */
function userRunner(content: SynthesizedStack, role: string): { address: string; config: any } {
  const entry = Object.entries(content.resource.gitlab_user_runner ?? {}).find(([name]) => name.startsWith(`runners_${role}_`));
  if (!entry) throw new Error(`no gitlab_user_runner for ${role}`);
  return { address: `gitlab_user_runner.${entry[0]}`, config: entry[1] };
}
const tokenOf = (address: string) => `\${${address}.token}`;
const file = (userData: any, path: string) => userData.write_files.find((f: any) => f.path === path)?.content as string;

describe("aws: gitlab_user_runner → secret version → the secret the first stack created → the instances", () => {
  it.each([
    ["staging", "gitlab-runner"],
    ["production", "gitlab-runner-manager"],
  ])("%s (the role %s reads it)", (name, reader) => {
    const first = exampleStack(name);
    const content = exampleStack(`${name}-gitlab`);
    const runner = userRunner(content, "fleet");
    // The second stack writes the token as the secret's version, the secret found by its name.
    const [version] = resources(content, "aws_secretsmanager_secret_version");
    expect(version.secret_string).toBe(tokenOf(runner.address));
    const [dataName, dataSecret] = Object.entries(content.data?.aws_secretsmanager_secret ?? {})[0]! as [string, any];
    expect(version.secret_id).toBe(`\${data.aws_secretsmanager_secret.${dataName}.arn}`);
    const secretName = `${name}-gitlab/runner-token`;
    expect(dataSecret.name).toBe(secretName);
    // The first stack created that secret, empty, and lets the runners (and only they) read it.
    const [secretAddress] = Object.entries(first.resource.aws_secretsmanager_secret ?? {}).find(([, s]: [string, any]) => s.name === secretName)!;
    expect(first.resource.aws_secretsmanager_secret_version).toBeUndefined();
    const readers = resources(first, "aws_iam_role_policy").filter((p) =>
      JSON.parse(p.policy).Statement.some(
        (s: any) => s.Action.includes("secretsmanager:GetSecretValue") && s.Resource.includes(`\${aws_secretsmanager_secret.${secretAddress}.arn}`),
      ),
    );
    expect(readers.map((p) => p.name)).toEqual([reader]);
    // The instance that registers: it names the secret, waits for its first version, and syncs new ones.
    const templates = resources(first, "aws_launch_template").map((t) => parse(userDataText(t)));
    const registering = templates.filter((u) => file(u, "/etc/gitlab-runner-fleet/bootstrap.env")?.includes(`TOKEN_SECRET_ID=${secretName}\n`));
    expect(registering).toHaveLength(1);
    const userData = registering[0];
    expect(file(userData, "/usr/local/sbin/runner-token-sync")).toContain("--wait");
    expect(file(userData, "/etc/systemd/system/runner-token-sync.timer")).toContain("OnCalendar=*:0/5");
    expect(file(userData, "/etc/gitlab-runner/config.toml.template")).toContain('token = "@@RUNNER_TOKEN@@"');
  });

  it("with runners.token (the manual escape hatch) nothing is registered and no version written", () => {
    const c = exampleYaml("staging");
    c.runners.token = { secretsManagerArn: "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab-runner/token-AbCdEf" };
    const stacks = synthEnvironmentStacks(validEnvironment(c, "staging"));
    const content = stacks["staging-gitlab"]!;
    expect(content.resource?.gitlab_user_runner).toBeUndefined();
    expect(content.resource?.aws_secretsmanager_secret_version).toBeUndefined();
    const userData = parse(userDataText(resources(stacks.staging!, "aws_launch_template")[0]));
    expect(file(userData, "/etc/gitlab-runner-fleet/bootstrap.env")).toContain(`TOKEN_SECRET_ID=${c.runners.token.secretsManagerArn}\n`);
  });
});

describe("docker: gitlab_user_runner → an uploaded root-only file → the entry point", () => {
  const content = exampleStack("homelab-gitlab");
  it.each([
    ["build", "gitlab-runner-build", ["docker"], "not_protected"],
    ["deploy", "gitlab-runner-deploy", ["deploy"], "ref_protected"],
  ])("%s", (role, containerName, tags, accessLevel) => {
    const runner = userRunner(content, role);
    expect(runner.config).toMatchObject({ runner_type: "instance_type", tag_list: tags, access_level: accessLevel, untagged: false, locked: false });
    expect(runner.config.description).toMatch(new RegExp(`^homelab: ${role} runner`));
    const container = resources(content, "docker_container").find((c) => c.name === containerName);
    expect(container.upload.find((u: any) => u.file === RUNNER_TOKEN_FILE)).toEqual({
      file: RUNNER_TOKEN_FILE,
      content: tokenOf(runner.address),
      permissions: "0600",
    });
    expect(container.env).toEqual([`RUNNER_TOKEN_FILE=${RUNNER_TOKEN_FILE}`]);
    const template = unescapeTemplate(container.upload.find((u: any) => u.file === "/etc/gitlab-runner/config.toml.template").content);
    expect((parseToml(template) as any).runners[0].token).toBe("@@RUNNER_TOKEN@@");
    // The token is in that upload only.
    expect(JSON.stringify({ ...container, upload: container.upload.filter((u: any) => u.file !== RUNNER_TOKEN_FILE) })).not.toContain(".token}");
  });
});

describe("kubernetes: gitlab_user_runner → the runner's Secret → the chart", () => {
  it.each(["k3s-homelab", "cluster"])("%s", (name) => {
    const content = exampleStack(`${name}-gitlab`);
    const runner = userRunner(content, "cluster");
    const secret = resources(content, "kubernetes_secret_v1").find((s) => s.metadata.name === "gitlab-runner-token");
    expect(secret.data["runner-token"]).toBe(tokenOf(runner.address));
    const release = resources(content, "helm_release").find((r) => r.chart === "gitlab-runner");
    expect(release.namespace).toBe(secret.metadata.namespace);
    expect(parse(unescapeTemplate(release.values[0])).runners.secret).toBe("gitlab-runner-token");
    expect(JSON.stringify(release)).not.toContain(".token}");
  });
});

describe("no output carries a runner token", () => {
  it("in any stack of any example", () => {
    const names = stackNamesOf(exampleEnvironments().map((e) => e.name));
    expect(names.filter((n) => n.endsWith("-gitlab")).length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      const outputs = JSON.stringify(exampleStack(name).output ?? {});
      expect(outputs, name).not.toContain("gitlab_user_runner");
      expect(outputs, name).not.toContain("secretsmanager_secret_version");
    }
  });
});
