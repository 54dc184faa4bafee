// The environment schema: the single source of truth for config/<env>.yaml and its JSON Schema.
import { z } from "zod";
import { awsBackupsSection, awsObservabilitySection, awsRunnersSection, awsSection, awsTlsSection } from "./aws";
import {
  dockerBackupsSection,
  dockerObservabilitySection,
  dockerRunnersSection,
  dockerSection,
  dockerTlsSection,
} from "./docker";
import { gitlabSection } from "./gitlab";
import { domainName } from "./primitives";
import { secretsManagerRef, terraformVariableRef } from "./secrets";
import { dnsSection, policySection, registrySection, stateSection } from "./shared";

const common = {
  domain: domainName.describe("Domain the host names live under, e.g. 'example.com'."),
  registry: registrySection.prefault({}),
  policy: policySection.prefault({}),
  state: stateSection.default({ backend: "local" }),
};

export const awsEnvironmentSchema = z
  .strictObject({
    platform: z.literal("aws").describe("GitLab Omnibus on EC2, runners on a Spot Auto Scaling group."),
    ...common,
    aws: awsSection,
    gitlab: gitlabSection(secretsManagerRef),
    dns: dnsSection(terraformVariableRef),
    tls: awsTlsSection,
    runners: awsRunnersSection,
    backups: awsBackupsSection.prefault({}),
    observability: awsObservabilitySection.prefault({}),
  })
  .refine((env) => env.gitlab.sshPort === 22, {
    message: "must be 22 on aws: git SSH is served by the instance's OpenSSH (admins use SSM, not SSH)",
    path: ["gitlab", "sshPort"],
  });

export const dockerEnvironmentSchema = z.strictObject({
  platform: z.literal("docker").describe("Everything on one Docker host (homelab)."),
  ...common,
  docker: dockerSection,
  gitlab: gitlabSection(terraformVariableRef),
  dns: dnsSection(terraformVariableRef),
  tls: dockerTlsSection,
  runners: dockerRunnersSection,
  backups: dockerBackupsSection,
  observability: dockerObservabilitySection,
});

export const environmentSchema = z
  .discriminatedUnion("platform", [awsEnvironmentSchema, dockerEnvironmentSchema], {
    error: "must be 'aws' or 'docker'",
  })
  .describe("One environment of the GitLab platform. The file name (without .yaml) is the environment's name.");

export type AwsEnvironmentConfig = z.infer<typeof awsEnvironmentSchema>;
export type DockerEnvironmentConfig = z.infer<typeof dockerEnvironmentSchema>;
export type EnvironmentConfig = z.infer<typeof environmentSchema>;

/** Top-level sections that belong to one platform only, for a clearer message than "unrecognized key". */
export const platformOnlySections: Record<string, "aws" | "docker"> = { aws: "aws", docker: "docker" };
