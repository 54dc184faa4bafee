// The environment schema: the single source of truth for config/<env>.yaml and its JSON Schema.
import { z } from "zod";
import { awsBackupsSection, awsObservabilitySection, awsSection, awsTlsSection } from "./aws";
import { awsRunnersSection } from "./aws-runners";
import { dockerBackupsSection, dockerObservabilitySection, dockerRunnersSection, dockerSection, dockerTlsSection } from "./docker";
import { at, crossCheck, crossCheckWith, withUniqueHostNames } from "./cross-checks";
import { grafanaAccessProblem } from "./grafana-access";
import { gitlabSection } from "./gitlab";
import { withGitlabContentChecks } from "./gitlab-content";
import { withKubernetesChecks } from "./kubernetes-checks";
import {
  kubernetesBackupsSection,
  kubernetesDnsNote,
  kubernetesGitlabSection,
  kubernetesObservabilitySection,
  kubernetesRunnersSection,
  kubernetesSection,
  kubernetesTlsSection,
  objectStorageSection,
} from "./kubernetes";
import { domainName } from "./primitives";
import { hostFileRef, secretsManagerRef, terraformVariableRef } from "./secrets";
import { dnsSection, policySection, registrySection, stateSection } from "./shared";

const common = {
  domain: domainName.describe("Domain the host names live under, e.g. 'example.com'."),
  registry: registrySection.prefault({}),
  policy: policySection.prefault({}),
  state: stateSection.default({ backend: "local" }),
};

const awsEnvironmentObject = z.strictObject({
  platform: z.literal("aws").describe("GitLab Omnibus on EC2, runners on a Spot Auto Scaling group."),
  ...common,
  aws: awsSection,
  gitlab: gitlabSection(secretsManagerRef, { defaultSshPort: 22 }),
  dns: dnsSection(terraformVariableRef, {
    proxiedByDefault: true,
    proxiedNote: "Proxied, with the zone's SSL mode Full (strict), Cloudflare's WAF and rate limits stand in front of GitLab.",
  }),
  tls: awsTlsSection,
  runners: awsRunnersSection,
  backups: awsBackupsSection.prefault({}),
  observability: awsObservabilitySection.prefault({}),
});

const HOST_NAME_FIELDS = ["gitlab.sshHostname", "registry.hostname", "observability.grafanaHostname"] as const;

export const awsEnvironmentSchema = crossCheck(
  withGitlabContentChecks(withUniqueHostNames(awsEnvironmentObject, HOST_NAME_FIELDS)),
  "gitlab.sshPort",
  (env) => (at(env, "gitlab", "sshPort") ?? 22) === 22,
  "must be 22 on aws: git SSH is served by the instance's OpenSSH (admins use SSM, not SSH)",
);

const dockerEnvironmentObject = z.strictObject({
  platform: z.literal("docker").describe("Everything on one Docker host (homelab)."),
  ...common,
  docker: dockerSection,
  // Not 22 by default: the Docker host's own OpenSSH has it.
  // Secrets are files on the Docker host: the state (in GitLab, readable by Developers) holds none.
  gitlab: gitlabSection(hostFileRef, { defaultSshPort: 2222 }),
  dns: dnsSection(terraformVariableRef, {
    proxiedByDefault: false,
    proxiedNote:
      "On docker the records point straight at the host by default: proxied, the zone's SSL mode (not managed here) must be Full (strict), or Traefik's HTTP→HTTPS redirect loops, and GitLab sees Cloudflare's addresses as the clients'.",
  }),
  tls: dockerTlsSection,
  runners: dockerRunnersSection,
  backups: dockerBackupsSection,
  observability: dockerObservabilitySection,
});

export const dockerEnvironmentSchema = crossCheckWith(
  crossCheck(
    withGitlabContentChecks(withUniqueHostNames(dockerEnvironmentObject, HOST_NAME_FIELDS)),
    "gitlab.sshPort",
    (env) => ![80, 443].includes(at(env, "gitlab", "sshPort") as number),
    "must not be 80 or 443: Traefik publishes those on the Docker host",
  ),
  "observability.grafanaAllowFrom",
  grafanaAccessProblem,
);

const kubernetesEnvironmentObject = z.strictObject({
  platform: z
    .literal("kubernetes")
    .describe("GitLab's Helm chart and the gitlab-runner chart on an existing cluster, from one k3s node to a production cluster."),
  ...common,
  kubernetes: kubernetesSection,
  gitlab: kubernetesGitlabSection,
  objectStorage: objectStorageSection,
  dns: dnsSection(terraformVariableRef, { proxiedByDefault: false, proxiedNote: kubernetesDnsNote }),
  tls: kubernetesTlsSection,
  runners: kubernetesRunnersSection,
  backups: kubernetesBackupsSection,
  observability: kubernetesObservabilitySection.prefault({}),
});

export const kubernetesEnvironmentSchema = withKubernetesChecks(withGitlabContentChecks(withUniqueHostNames(kubernetesEnvironmentObject, HOST_NAME_FIELDS)));

export const environmentSchema = z
  .discriminatedUnion("platform", [awsEnvironmentSchema, dockerEnvironmentSchema, kubernetesEnvironmentSchema], {
    error: "must be 'aws', 'docker' or 'kubernetes'",
  })
  .describe("One environment of the GitLab platform. The file name (without .yaml) is the environment's name.");

export type AwsEnvironmentConfig = z.infer<typeof awsEnvironmentSchema>;
export type DockerEnvironmentConfig = z.infer<typeof dockerEnvironmentSchema>;
export type KubernetesEnvironmentConfig = z.infer<typeof kubernetesEnvironmentSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;

/** Top-level sections that belong to one platform only, for a clearer message than "unrecognized key". */
export const platformOnlySections: Record<string, "aws" | "docker" | "kubernetes"> = {
  aws: "aws",
  docker: "docker",
  kubernetes: "kubernetes",
  objectStorage: "kubernetes",
};
