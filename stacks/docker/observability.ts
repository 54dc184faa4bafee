// Monitoring props on the docker platform: Prometheus at its fixed address scraping the GitLab
// and runners it is given, alerts to the configured receiver, Grafana behind the IdP or the LAN.
import type { DockerObservabilityProps, ObservabilityAlertReceiver } from "../../constructs/observability/docker";
import type { GitLabContainerRef } from "../../constructs/gitlab-server/docker";
import type { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import type { DockerRunnerFleet } from "../../constructs/runner-fleet/docker";
import { TRAEFIK_INTERNAL_PORT } from "../../userdata/traefik/traefik-config";
import { hostNames } from "../host-names";
import type { DockerEnvironment, HostSecretFiles } from "./environment";

export interface ObservabilityParts {
  readonly network: DockerPrivateNetwork;
  readonly secrets: HostSecretFiles;
  readonly gitlab: GitLabContainerRef;
  readonly runners: DockerRunnerFleet;
}

export function observabilityProps(env: DockerEnvironment, parts: ObservabilityParts): DockerObservabilityProps {
  const o = env.observability;
  const { secrets } = parts;
  return {
    network: parts.network.network,
    prometheusAddress: parts.network.prometheusAddress,
    dataRoot: env.docker.dataRoot,
    domain: env.domain,
    grafanaHostname: o.grafanaHostname,
    images: env.docker.images,
    retentionDays: o.metricsRetentionDays,
    alertReceiver: alertReceiver(o.alertReceiver, secrets),
    grafanaAdminPassword: secrets.file(o.grafanaAdminPassword),
    ...(o.grafanaSso ? { grafanaSso: { ...o.grafanaSso, clientSecret: secrets.file(o.grafanaSso.clientSecret) } } : {}),
    runnerTargets: parts.runners.metricsTargets,
    backupMaxAgeHours: env.backups.maxAgeHours,
    alertThresholds: o.alertThresholds,
    gitlab: parts.gitlab,
    gitlabWebHost: hostNames(env).web,
    scrapePostgres: !env.gitlab.externalDatabase,
    scrapeRegistry: env.registry.enabled,
    extraScrapeJobs: [{ name: "traefik", targets: [`traefik:${TRAEFIK_INTERNAL_PORT}`] }],
  };
}

/** The alert receiver with its secrets (webhook URL, SMTP password) as host files. */
function alertReceiver(receiver: DockerEnvironment["observability"]["alertReceiver"], secrets: HostSecretFiles): ObservabilityAlertReceiver {
  if ("webhook" in receiver) return { webhookUrl: secrets.file(receiver.webhook.url) };
  const { auth, ...email } = receiver.email;
  return { email: { ...email, ...(auth ? { auth: { username: auth.username, password: secrets.file(auth.password) } } : {}) } };
}
