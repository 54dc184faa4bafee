// The docker platform's stack: providers, sensitive variables and outputs, and the
// constructs wired together on one Docker host.
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Aspects, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "../config/load";
import type { DockerEnvironmentConfig } from "../config/schema/index";
import type { HostFileRef } from "../config/schema/secrets";
import { DockerBackups } from "../constructs/backups/docker";
import { CLOUDFLARE_IP_RANGES } from "../constructs/dns-tls/cloudflare-ip-ranges";
import { DockerDnsTls } from "../constructs/dns-tls/docker";
import { hostSecretFile, type HostSecretFile } from "../constructs/docker-conventions";
import { DockerGitLabServer } from "../constructs/gitlab-server/docker";
import { DockerJobsFirewall } from "../constructs/jobs-firewall/docker";
import { DockerObservability, type ObservabilityAlertReceiver } from "../constructs/observability/docker";
import { DockerPrivateNetwork } from "../constructs/private-network/docker";
import { dockerRegistry } from "../constructs/registry/docker";
import { DockerRunnerFleet } from "../constructs/runner-fleet/docker";
import { TRAEFIK_INTERNAL_PORT, type TraefikRoute } from "../userdata/traefik/traefik-config";
import { PolicyAspect } from "../policies/aspect";
import { useStateBackend } from "./backend";
import { hostNames } from "./host-names";
import {
  applicationSettings,
  gitlabSecrets,
  monitoringWhitelist,
  omnibusSettings,
  type GitlabSecretName,
} from "./omnibus-settings";

export type DockerEnvironment = Environment & DockerEnvironmentConfig;

const GITLAB_CONTAINER = "gitlab";

export class DockerEnvironmentStack extends TerraformStack {
  readonly gitlab: DockerGitLabServer;
  readonly dnsTls: DockerDnsTls;
  readonly runners: DockerRunnerFleet;
  readonly backups: DockerBackups;
  readonly observability: DockerObservability;
  readonly jobsFirewall: DockerJobsFirewall;

  private readonly variables = new Map<string, TerraformVariable>();

  constructor(scope: Construct, env: DockerEnvironment) {
    super(scope, env.name);
    const hosts = hostNames(env);
    useStateBackend(this, env.name, env.state);

    // No host: DOCKER_HOST decides in each job and on each workstation (the local socket when
    // unset), which an explicit host would override. No ping at start: a merge request's plan
    // (no refresh) runs where there is no daemon at all.
    new DockerProvider(this, "docker", { disableDockerDaemonCheck: true });
    const cloudflareToken = this.sensitiveVariable(env.dns.apiToken.terraformVariable);
    new CloudflareProvider(this, "cloudflare", { apiToken: cloudflareToken });

    // Every secret a container reads is a file on the Docker host, never a Terraform value:
    // the state (in GitLab, readable by the project's Developers) holds none of them.
    const secretFiles = new Set<string>();
    const secretFile = (ref: HostFileRef): HostSecretFile => {
      const file = hostSecretFile(env.docker.dataRoot, ref.hostFile);
      secretFiles.add(file.hostPath);
      return file;
    };
    const gitlabSecretFiles = new Map<GitlabSecretName, HostSecretFile>(gitlabSecrets(env.gitlab).map((s) => [s.name, secretFile(s.ref)]));

    const network = new DockerPrivateNetwork(this, "network", {
      name: env.docker.networkName,
      cidr: env.docker.networkCidr,
    });

    const registry = hosts.registry
      ? dockerRegistry({ host: hosts.registry, dataRoot: env.docker.dataRoot, gitlabContainerName: GITLAB_CONTAINER })
      : undefined;

    this.backups = new DockerBackups(this, "backups", {
      network: network.network,
      dataRoot: env.docker.dataRoot,
      image: env.docker.images.dockerCli,
      schedule: env.backups.schedule,
      nfs: env.backups.nfs,
      retentionDays: env.backups.retentionDays,
      gitlabContainerName: GITLAB_CONTAINER,
    });

    this.gitlab = new DockerGitLabServer(this, "gitlab-server", {
      gitlabVersion: env.gitlab.version,
      dataRoot: env.docker.dataRoot,
      network: network.network,
      shmSizeMb: env.docker.shmSize,
      secretFiles: [...gitlabSecretFiles.values()],
      applicationSettings: applicationSettings(env),
      extraMounts: registry ? [registry.storageMount] : [],
      omnibus: omnibusSettings(env, {
        // Traefik, at its fixed address, terminates TLS in front of GitLab's nginx; Traefik, and
        // Cloudflare in front of it when proxied, name the client in turn. Not the whole
        // network: build jobs arrive through its gateway (Docker's proxy of published ports).
        tls: { mode: "proxy", trustedProxies: [`${network.traefikAddress}/32`, ...(env.dns.proxied ? CLOUDFLARE_IP_RANGES : [])] },
        // Prometheus alone, at its fixed address, reads the metrics and health endpoints.
        monitoring: { whitelist: monitoringWhitelist(`${network.prometheusAddress}/32`), exportersOnAllInterfaces: true },
        secretSource: (name) => {
          const file = gitlabSecretFiles.get(name);
          if (!file) throw new Error(`gitlab.rb reads the secret ${name}, which config does not reference`);
          return { file: file.containerPath };
        },
        // Archives go to the NFS share; one day locally is enough to retry a copy.
        backupKeepSeconds: this.backups.localKeepSeconds,
      }),
    });

    this.runners = new DockerRunnerFleet(this, "runners", {
      network: network.network,
      namePrefix: env.name,
      runnerVersion: env.runners.version,
      gitlabUrl: `https://${hosts.web}`,
      concurrent: env.runners.concurrent,
      build: {
        token: secretFile(env.runners.build.token),
        jobImage: env.runners.build.jobImage,
        dockerAccess: env.runners.build.dockerAccess,
        privileged: env.runners.build.privileged,
        ...(env.runners.build.jobMemory ? { jobMemory: env.runners.build.jobMemory } : {}),
        dns: env.runners.build.dns,
        // Clones, API calls and registry logins from jobs go to Traefik on this host.
        hostsViaDockerHost: [hosts.web, ...(hosts.registry ? [hosts.registry] : [])],
      },
      ...(env.runners.deploy
        ? {
            deploy: {
              token: secretFile(env.runners.deploy.token),
              jobImage: env.runners.deploy.jobImage ?? env.docker.images.dockerCli,
              buildsDir: `${env.docker.dataRoot}/deploy-builds`,
              hostsViaDockerHost: [hosts.web, ...(hosts.registry ? [hosts.registry] : [])],
            },
          }
        : {}),
      schedulerImage: env.docker.images.dockerCli,
      cleanupSchedule: env.runners.cleanupSchedule,
      cleanupOlderThan: env.runners.cleanupOlderThan,
      cleanupCacheOlderThan: env.runners.cleanupCacheOlderThan,
    });

    this.observability = new DockerObservability(this, "observability", {
      network: network.network,
      prometheusAddress: network.prometheusAddress,
      dataRoot: env.docker.dataRoot,
      domain: env.domain,
      grafanaHostname: env.observability.grafanaHostname,
      images: env.docker.images,
      retentionDays: env.observability.retentionDays,
      alertReceiver: this.alertReceiver(env.observability.alertReceiver, secretFile),
      grafanaAdminPassword: secretFile(env.observability.grafanaAdminPassword),
      ...(env.observability.grafanaSso ? { grafanaSso: { ...env.observability.grafanaSso, clientSecret: secretFile(env.observability.grafanaSso.clientSecret) } } : {}),
      runnerTargets: this.runners.metricsTargets,
      backupMaxAgeHours: env.backups.maxAgeHours,
      gitlabContainerName: GITLAB_CONTAINER,
      gitlabWebHost: hosts.web,
      scrapePostgres: !env.gitlab.externalDatabase,
      scrapeRegistry: env.registry.enabled,
      extraScrapeJobs: [{ name: "traefik", targets: [`traefik:${TRAEFIK_INTERNAL_PORT}`] }],
    });

    const routes: TraefikRoute[] = [
      { name: "gitlab", host: hosts.web, containerName: GITLAB_CONTAINER, port: 80 },
      ...(registry ? [registry.route] : []),
      { ...this.observability.route, ...(env.observability.grafanaAllowFrom ? { allowFrom: env.observability.grafanaAllowFrom } : {}) },
    ];
    this.dnsTls = new DockerDnsTls(this, "dns-tls", {
      network: network.network,
      address: network.traefikAddress,
      dataRoot: env.docker.dataRoot,
      image: env.docker.images.traefik,
      domain: env.domain,
      acmeEmail: env.tls.acmeEmail,
      acmeStaging: env.tls.acmeStaging,
      dnsApiToken: secretFile(env.tls.dnsApiToken),
      zoneId: env.dns.zoneId,
      publicAddress: env.docker.publicAddress,
      proxied: env.dns.proxied,
      routes,
      dnsOnlyHosts: [{ id: "git-ssh", name: hosts.ssh }],
    });

    // Build jobs reach GitLab and the registry through Traefik's published ports and git SSH
    // through GitLab's; nothing else on the host or the LAN.
    this.jobsFirewall = new DockerJobsFirewall(this, "jobs-firewall", {
      image: env.docker.images.jobsFirewall,
      hostPorts: [80, 443, env.gitlab.sshPort],
      allowedNetworks: env.runners.build.allowPrivateNetworks,
    });

    // The policies, with the platform's own exceptions (each with its reason, declared by
    // the construct that needs it) after the config's.
    Aspects.of(this).add(
      new PolicyAspect({ gitSshPort: env.gitlab.sshPort }, [...env.policy.suppressions, ...this.jobsFirewall.policySuppressions]),
    );

    new TerraformOutput(this, "web_url", { value: `https://${hosts.web}`, description: "GitLab web UI and API" });
    new TerraformOutput(this, "git_ssh_host", { value: hosts.ssh, description: "Host for git over SSH (DNS-only record)" });
    new TerraformOutput(this, "git_ssh_port", { value: env.gitlab.sshPort });
    if (hosts.registry) new TerraformOutput(this, "registry_url", { value: `https://${hosts.registry}` });
    new TerraformOutput(this, "gitlab_container", { value: this.gitlab.container.name });
    new TerraformOutput(this, "grafana_url", { value: this.observability.grafanaUrl });
    new TerraformOutput(this, "monitoring_data_paths", { value: this.observability.hostPaths });
    new TerraformOutput(this, "host_secret_files", {
      value: [...secretFiles].sort(),
      description: "Root-only files on the Docker host the containers read their secrets from: create them before deploying (README, docker)",
    });
    new TerraformOutput(this, "gitlab_data_paths", {
      value: this.gitlab.hostPaths,
      description: "Host directories holding GitLab's config, logs, data and registry: back them up, never prune them",
    });
  }

  /** The alert receiver with its secrets (webhook URL, SMTP password) as host files. */
  private alertReceiver(receiver: DockerEnvironment["observability"]["alertReceiver"], secretFile: (ref: HostFileRef) => HostSecretFile): ObservabilityAlertReceiver {
    if ("webhook" in receiver) return { webhookUrl: secretFile(receiver.webhook.url) };
    const { auth, ...email } = receiver.email;
    return { email: { ...email, ...(auth ? { auth: { username: auth.username, password: secretFile(auth.password) } } : {}) } };
  }

  /** One sensitive string variable per name, however many settings reference it; its value as a reference. */
  private sensitiveVariable(name: string): string {
    let variable = this.variables.get(name);
    if (!variable) {
      variable = new TerraformVariable(this, name, { type: "string", sensitive: true, nullable: false });
      this.variables.set(name, variable);
    }
    return variable.stringValue;
  }
}
