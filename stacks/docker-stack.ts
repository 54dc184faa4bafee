// The docker platform's stack: provider, sensitive variables and outputs, and the constructs.
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "../config/load";
import type { DockerEnvironmentConfig } from "../config/schema/index";
import { DockerGitLabServer } from "../constructs/gitlab-server/docker";
import { DockerPrivateNetwork } from "../constructs/private-network/docker";
import { useLocalState } from "./backend";
import { hostNames } from "./host-names";
import {
  applicationSettings,
  DAY_SECONDS,
  gitlabSecrets,
  monitoringWhitelist,
  omnibusSettings,
  type GitlabSecretName,
} from "./omnibus-settings";

export type DockerEnvironment = Environment & DockerEnvironmentConfig;

/** The container environment variable gitlab.rb reads a secret from. */
const secretEnvVar = (name: GitlabSecretName) => `GITLAB_${name.toUpperCase()}`;

export class DockerEnvironmentStack extends TerraformStack {
  readonly gitlab: DockerGitLabServer;

  constructor(scope: Construct, env: DockerEnvironment) {
    super(scope, env.name);
    const hosts = hostNames(env);

    useLocalState(this, env.name);
    new DockerProvider(this, "docker", { host: env.docker.host });

    const secretEnvironment: Record<string, string> = {};
    for (const secret of gitlabSecrets(env.gitlab)) {
      secretEnvironment[secretEnvVar(secret.name)] = this.sensitiveVariable(secret.ref.terraformVariable).stringValue;
    }

    const network = new DockerPrivateNetwork(this, "network", {
      name: env.docker.networkName,
      cidr: env.docker.networkCidr,
    });

    this.gitlab = new DockerGitLabServer(this, "gitlab-server", {
      gitlabVersion: env.gitlab.version,
      hostname: hosts.web,
      dataRoot: env.docker.dataRoot,
      network: network.network,
      shmSizeMb: env.docker.shmSize,
      secretEnvironment,
      applicationSettings: applicationSettings(env),
      omnibus: omnibusSettings(env, {
        // Traefik, on the private network, terminates TLS in front of GitLab's nginx.
        tls: { mode: "proxy", trustedProxies: [network.cidr] },
        monitoring: { whitelist: monitoringWhitelist(network.cidr), exportersOnAllInterfaces: true },
        secretSource: (name) => ({ env: secretEnvVar(name) }),
        backupKeepSeconds: env.backups.retentionDays * DAY_SECONDS,
      }),
    });

    new TerraformOutput(this, "web_url", { value: `https://${hosts.web}`, description: "GitLab web UI and API" });
    new TerraformOutput(this, "git_ssh_host", { value: hosts.ssh, description: "Host for git over SSH (DNS-only record)" });
    new TerraformOutput(this, "git_ssh_port", { value: env.gitlab.sshPort });
    if (hosts.registry) new TerraformOutput(this, "registry_url", { value: `https://${hosts.registry}` });
    new TerraformOutput(this, "gitlab_container", { value: this.gitlab.container.name });
    new TerraformOutput(this, "gitlab_data_paths", {
      value: this.gitlab.hostPaths,
      description: "Host directories holding GitLab's config, logs and data: back them up, never prune them",
    });
  }

  private readonly variables = new Map<string, TerraformVariable>();

  /** One sensitive string variable per name, however many settings reference it. */
  private sensitiveVariable(name: string): TerraformVariable {
    let variable = this.variables.get(name);
    if (!variable) {
      variable = new TerraformVariable(this, name, { type: "string", sensitive: true, nullable: false });
      this.variables.set(name, variable);
    }
    return variable;
  }
}
