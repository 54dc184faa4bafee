// What every stack of an environment does the same way: its own state in the environment's
// backend, the policy Aspect with the suppressions that name it, and (for the platform
// stacks) the outputs every environment answers with.
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

  /**
   * @param name the stack's (and its state's) name: the environment's for the platform stack,
   *   `<env>-gitlab` for the second. @default the environment's name
   */
  constructor(scope: Construct, env: Environment, policy: PolicyContext, name: string = env.name) {
    super(scope, name);
    this.hosts = hostNames(env);
    useStateBackend(this, env.name, env.state, name);
    // The config's suppressions that name this stack (stacks/suppressions.ts).
    this.suppressions = stackSuppressions(env, name);
    // The aspect reads the list at synth, after every construct has added its exceptions.
    Aspects.of(this).add(new PolicyAspect(policy, this.suppressions));
  }

  /** Accepts policy findings a construct of this stack declares necessary, each with its reason. */
  protected suppress(suppressions: readonly Suppression[]): void {
    this.suppressions.push(...suppressions);
  }

  /** The URLs and git SSH address every environment outputs. */
  protected addressOutputs(env: Environment, web: { readonly url: string; readonly sshDescription: string }): void {
    new TerraformOutput(this, "web_url", { value: web.url, description: "GitLab web UI and API" });
    new TerraformOutput(this, "git_ssh_host", { value: this.hosts.ssh, description: web.sshDescription });
    new TerraformOutput(this, "git_ssh_port", { value: env.gitlab.sshPort });
    if (this.hosts.registry) new TerraformOutput(this, "registry_url", { value: `https://${this.hosts.registry}` });
  }
}

/** The git SSH host's description on platforms where it is the server's own address. */
export const DNS_ONLY_SSH_HOST = "Host for git over SSH (DNS-only record)";
