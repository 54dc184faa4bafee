// The docker platform's stack: providers, outputs, and the capabilities wired together on one
// Docker host. Wiring only: what each construct gets is mapped from the environment in
// stacks/docker/, and constructs are joined by the objects themselves, not by names.
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { TerraformOutput, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { DockerBackups } from "../constructs/backups/docker";
import { DockerDnsTls } from "../constructs/dns-tls/docker";
import { DockerGitLabServer } from "../constructs/gitlab-server/docker";
import { DockerJobsFirewall } from "../constructs/jobs-firewall/docker";
import { DockerObservability } from "../constructs/observability/docker";
import { DockerPrivateNetwork } from "../constructs/private-network/docker";
import { dockerRegistry } from "../constructs/registry/docker";
import { DockerRunnerFleet } from "../constructs/runner-fleet/docker";
import { backupsProps } from "./docker/backups";
import { dnsTlsProps, routes } from "./docker/dns-tls";
import { HostSecretFiles, type DockerEnvironment } from "./docker/environment";
import { gitlabServerProps } from "./docker/gitlab-server";
import { observabilityProps } from "./docker/observability";
import { runnerFleetProps } from "./docker/runner-fleet";
import { DNS_ONLY_SSH_HOST, EnvironmentStack } from "./environment-stack";

export type { DockerEnvironment } from "./docker/environment";

export class DockerEnvironmentStack extends EnvironmentStack {
  readonly gitlab: DockerGitLabServer;
  readonly dnsTls: DockerDnsTls;
  readonly runners: DockerRunnerFleet;
  readonly backups: DockerBackups;
  readonly observability: DockerObservability;
  readonly jobsFirewall: DockerJobsFirewall;
  private readonly secrets: HostSecretFiles;

  constructor(scope: Construct, env: DockerEnvironment) {
    super(scope, env, { gitSshPort: env.gitlab.sshPort });
    // No host: DOCKER_HOST decides in each job and on each workstation (the local socket when
    // unset), which an explicit host would override. No ping at start: a merge request's plan
    // (no refresh) runs where there is no daemon at all.
    new DockerProvider(this, "docker", { disableDockerDaemonCheck: true });
    const cloudflareToken = new TerraformVariable(this, env.dns.apiToken.terraformVariable, { type: "string", sensitive: true, nullable: false });
    new CloudflareProvider(this, "cloudflare", { apiToken: cloudflareToken.stringValue });

    this.secrets = new HostSecretFiles(env.docker.dataRoot);
    const secrets = this.secrets;
    const network = new DockerPrivateNetwork(this, "network", { name: env.docker.networkName, cidr: env.docker.networkCidr });
    const registry = this.hosts.registry ? dockerRegistry({ host: this.hosts.registry, dataRoot: env.docker.dataRoot }) : undefined;
    this.gitlab = new DockerGitLabServer(this, "gitlab-server", gitlabServerProps(env, { network, secrets, registry }));
    this.backups = new DockerBackups(this, "backups", backupsProps(env, { network, gitlab: this.gitlab }));
    this.runners = new DockerRunnerFleet(this, "runners", runnerFleetProps(env, { network }));
    this.observability = new DockerObservability(
      this,
      "observability",
      observabilityProps(env, { network, secrets, gitlab: this.gitlab, runners: this.runners }),
    );
    const routed = routes(env, { gitlab: this.gitlab, registry, observability: this.observability });
    this.dnsTls = new DockerDnsTls(this, "dns-tls", dnsTlsProps(env, { network, secrets, routes: routed }));
    // Build jobs reach GitLab and the registry through Traefik's published ports and git SSH
    // through GitLab's; nothing else on the host or the LAN.
    this.jobsFirewall = new DockerJobsFirewall(this, "jobs-firewall", {
      image: env.docker.images.jobsFirewall,
      hostPorts: [80, 443, env.gitlab.sshPort],
      allowedNetworks: env.runners.build.allowPrivateNetworks,
    });
    this.suppress(this.jobsFirewall.policySuppressions);
    this.outputs(env);
  }

  private outputs(env: DockerEnvironment): void {
    this.addressOutputs(env, { url: `https://${this.hosts.web}`, sshDescription: DNS_ONLY_SSH_HOST });
    new TerraformOutput(this, "gitlab_container", { value: this.gitlab.container.name });
    new TerraformOutput(this, "grafana_url", { value: this.observability.grafanaUrl });
    new TerraformOutput(this, "monitoring_data_paths", { value: this.observability.hostPaths });
    new TerraformOutput(this, "host_secret_files", {
      value: this.secrets.hostPaths(),
      description: "Root-only files on the Docker host the containers read their secrets from: create them before deploying (README, docker)",
    });
    new TerraformOutput(this, "gitlab_data_paths", {
      value: this.gitlab.hostPaths,
      description: "Host directories holding GitLab's config, logs, data and registry: back them up, never prune them",
    });
  }
}
