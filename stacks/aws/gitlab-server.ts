// GitLab server props on the aws platform: Omnibus on EC2 with its secrets fetched from
// Secrets Manager at boot, the registry and backups in S3, the data on its own volume.
import type { AwsBackups } from "../../constructs/backups/aws";
import type { AwsAutomationToken } from "../../constructs/gitlab-server/automation-token-aws";
import { CLOUDFLARE_IP_RANGES } from "../../constructs/dns-tls/cloudflare-ip-ranges";
import type { AwsGitLabServerProps } from "../../constructs/gitlab-server/aws";
import type { AwsObservability } from "../../constructs/observability/aws";
import type { AwsRegistry } from "../../constructs/registry/aws";
import { bootSecretFile, type BootSecret } from "../../userdata/gitlab-server-user-data";
import { pinnedAccountIds } from "../../userdata/omnibus-accounts";
import type { AwsEnvironment } from "../aws-stack";
import { applicationSettings, DAY_SECONDS, gitlabSecrets, monitoringWhitelist, omnibusSettings } from "../omnibus-settings";
import type { AwsNames } from "./naming";

const TLS_CERTIFICATE = "tls_certificate";
const TLS_PRIVATE_KEY = "tls_private_key";

export interface GitLabServerParts {
  readonly registry?: AwsRegistry | undefined;
  readonly backups: AwsBackups;
  readonly observability: AwsObservability;
  /** The automation token's secret, which the server fills and renews. */
  readonly automationToken: AwsAutomationToken;
}

/** Every secret the server reads at boot, by the file name it lands in. */
function bootSecrets(env: AwsEnvironment): BootSecret[] {
  return [
    ...gitlabSecrets(env.gitlab).map((s) => ({ name: s.name, arn: s.ref.secretsManagerArn })),
    { name: TLS_CERTIFICATE, arn: env.tls.certificate.secretsManagerArn },
    { name: TLS_PRIVATE_KEY, arn: env.tls.privateKey.secretsManagerArn },
  ];
}

export function gitlabServerProps(env: AwsEnvironment, names: AwsNames, parts: GitLabServerParts): AwsGitLabServerProps {
  const { registry, backups, observability, automationToken } = parts;
  return {
    namePrefix: names.namePrefix,
    gitlabVersion: env.gitlab.version,
    region: env.aws.region,
    vpcId: env.aws.vpcId,
    subnetId: env.aws.publicSubnetId,
    instanceType: env.aws.instanceType,
    ami: env.aws.ami,
    rootVolumeGb: env.aws.rootVolumeGb,
    dataVolumeGb: env.aws.dataVolumeGb,
    bootSecrets: bootSecrets(env),
    applicationSettings: applicationSettings(env),
    tags: env.aws.tags,
    hostFiles: [...backups.hostFiles, ...observability.hostFiles, ...automationToken.hostFiles],
    hostUnits: [...backups.hostUnits, ...automationToken.hostUnits],
    automationTokenStore: automationToken.store,
    dataVolumeSnapshotTag: names.snapshotTag,
    // Proxied, the origin answers Cloudflare only: nobody skips its WAF and rate limits.
    ...(env.dns.proxied ? { webIngressSources: CLOUDFLARE_IP_RANGES } : {}),
    omnibus: omnibusSettings(env, {
      tls: {
        mode: "certificate",
        certificatePath: bootSecretFile(TLS_CERTIFICATE).file,
        keyPath: bootSecretFile(TLS_PRIVATE_KEY).file,
        // Proxied, every request arrives from Cloudflare: it names the client.
        ...(env.dns.proxied ? { trustedProxies: CLOUDFLARE_IP_RANGES } : {}),
      },
      monitoring: { whitelist: monitoringWhitelist(env.aws.vpcCidr), exportersOnAllInterfaces: false },
      secretSource: bootSecretFile,
      // Archives are uploaded to S3; keep only a day's worth on the data volume.
      backupKeepSeconds: DAY_SECONDS,
      extra: {
        ...(registry ? { registryS3: { bucket: registry.bucket.bucket, region: env.aws.region } } : {}),
        backupUpload: backups.upload,
        // The data volume outlives the instance: the files' owners must not move.
        accountIds: pinnedAccountIds(),
      },
    }),
  };
}
