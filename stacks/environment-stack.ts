// What every platform's stack does the same way: its state backend, the policy Aspect with
// the environment's suppressions, and the outputs every environment answers with.
import { Aspects, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "../config/load";
import { PolicyAspect } from "../policies/aspect";
import type { Suppression } from "../policies/index";
import type { PolicyContext } from "../policies/types";
import { useStateBackend } from "./backend";
import { hostNames, type HostNames } from "./host-names";
import { stackSuppressions } from "./suppressions";

export abstract class EnvironmentStack extends TerraformStack {
  protected readonly hosts: HostNames;
  /** The config's suppressions, then the platform's own (each with its reason). */
  private readonly suppressions: Suppression[];

  constructor(scope: Construct, env: Environment, policy: PolicyContext) {
    super(scope, env.name);
    this.hosts = hostNames(env);
    useStateBackend(this, env.name, env.state);
    // The config's suppressions but those of the second stack (<env>-gitlab), which it applies.
    this.suppressions = stackSuppressions(env, env.name);
    // The aspect reads the list at synth, after every construct has added its exceptions.
    Aspects.of(this).add(new PolicyAspect(policy, this.suppressions));
  }

  /** Accepts policy findings a construct of this stack declares necessary, each with its reason. */
  protected suppress(suppressions: readonly Suppression[]): void {
    this.suppressions.push(...suppressions);
  }

  /** The URLs and git SSH address every environment outputs first, in this order. */
  protected addressOutputs(env: Environment, web: { readonly url: string; readonly sshDescription: string }): void {
    new TerraformOutput(this, "web_url", { value: web.url, description: "GitLab web UI and API" });
    new TerraformOutput(this, "git_ssh_host", { value: this.hosts.ssh, description: web.sshDescription });
    new TerraformOutput(this, "git_ssh_port", { value: env.gitlab.sshPort });
    if (this.hosts.registry) new TerraformOutput(this, "registry_url", { value: `https://${this.hosts.registry}` });
  }
}

/** The git SSH host's description on platforms where it is the server's own address. */
export const DNS_ONLY_SSH_HOST = "Host for git over SSH (DNS-only record)";
