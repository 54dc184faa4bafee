// The base every platform's stack extends: its backend, its policy Aspect (with exceptions a
// construct adds after the Aspect exists) and the outputs every environment starts with.
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import type { Environment } from "../../config/load";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { exampleEnvironment, exampleStack } from "../examples";

class BareStack extends EnvironmentStack {
  constructor(env: Environment, lateSuppression: boolean) {
    super(Testing.app(), env, { gitSshPort: env.gitlab.sshPort });
    new AwsProvider(this, "aws", { region: "eu-west-1" });
    // Logs kept forever: the policies refuse it unless suppressed.
    new CloudwatchLogGroup(this, "forever", { name: "forever" });
    if (lateSuppression) {
      this.suppress([{ rule: "AWS-LOGS-RETENTION", path: "staging/forever", reason: "a test of late suppressions" }]);
    }
    this.addressOutputs(env, { url: "https://gitlab.example.com", sshDescription: "ssh" });
  }
}

describe("EnvironmentStack", () => {
  const env = exampleEnvironment("staging");

  it("runs the policies at synth, with the exceptions a construct added after the Aspect", () => {
    expect(() => Testing.synth(new BareStack(env, false), true)).toThrow(/AWS-LOGS-RETENTION at staging\/forever/);
    expect(() => Testing.synth(new BareStack(env, true), true)).not.toThrow();
  });

  it("writes the environment's backend", () => {
    const json = JSON.parse(Testing.synth(new BareStack(env, true), true));
    expect(Object.keys(json.terraform.backend)).toEqual([env.state.backend === "gitlab" ? "http" : env.state.backend]);
  });

  it.each(["staging", "production", "homelab", "cluster", "k3s-homelab"])("%s outputs its web URL and git SSH address", (name) => {
    const output = exampleStack(name).output;
    const example = exampleEnvironment(name);
    expect(output.git_ssh_host.value).toBe(`${example.gitlab.sshHostname ?? `ssh-${example.gitlab.hostname}`}.${example.domain}`);
    expect(output.git_ssh_port.value).toBe(example.gitlab.sshPort);
    expect(output.web_url.value).toMatch(/^https:\/\/|^\$\{/);
    expect("registry_url" in output).toBe(example.registry.enabled);
  });
});
