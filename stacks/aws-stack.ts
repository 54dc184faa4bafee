// The aws platform's stack: providers, variables and outputs, and the constructs wired
// together (seed 004).
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { Aspects, TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "../config/load";
import type { AwsEnvironmentConfig } from "../config/schema/index";
import { AwsBackups } from "../constructs/backups/aws";
import { AwsDnsTls } from "../constructs/dns-tls/aws";
import { CLOUDFLARE_IP_RANGES } from "../constructs/dns-tls/cloudflare-ip-ranges";
import { AwsGitLabServer } from "../constructs/gitlab-server/aws";
import { AwsObservability, SERVER_DISKS } from "../constructs/observability/aws";
import { AwsRegistry } from "../constructs/registry/aws";
import { bootSecretFile, type BootSecret } from "../userdata/gitlab-server-user-data";
import { pinnedAccountIds } from "../userdata/omnibus-accounts";
import { PolicyAspect } from "../policies/aspect";
import { awsRunners, runnerOutputs, type AwsRunners } from "./aws/runner-fleet";
import { useStateBackend } from "./backend";
import { hostNames } from "./host-names";
import { applicationSettings, DAY_SECONDS, gitlabSecrets, monitoringWhitelist, omnibusSettings } from "./omnibus-settings";
import { stackSuppressions } from "./suppressions";

export type AwsEnvironment = Environment & AwsEnvironmentConfig;

const TLS_CERTIFICATE = "tls_certificate";
const TLS_PRIVATE_KEY = "tls_private_key";

export class AwsEnvironmentStack extends TerraformStack {
  readonly gitlab: AwsGitLabServer;
  readonly registry?: AwsRegistry;
  readonly backups: AwsBackups;
  readonly observability: AwsObservability;
  readonly runners: AwsRunners;

  constructor(scope: Construct, env: AwsEnvironment) {
    super(scope, env.name);
    const hosts = hostNames(env);
    const namePrefix = `${env.name}-gitlab`;
    const bucketPrefix = env.aws.bucketPrefix ?? namePrefix;
    const snapshotTag = { key: "gitlab-platform:snapshots", value: `${namePrefix}-data` };
    useStateBackend(this, env.name, env.state);
    Aspects.of(this).add(new PolicyAspect({ gitSshPort: env.gitlab.sshPort, webBehindCloudflare: env.dns.proxied }, stackSuppressions(env, env.name)));

    new AwsProvider(this, "aws", {
      region: env.aws.region,
      defaultTags: [{ tags: { ...env.aws.tags, Environment: env.name, ManagedBy: "gitlab-platform" } }],
    });
    const cloudflareToken = new TerraformVariable(this, env.dns.apiToken.terraformVariable, {
      type: "string",
      sensitive: true,
      nullable: false,
      description: "Cloudflare API token with Zone:DNS:Edit and Zone:Zone Settings:Edit",
    });
    new CloudflareProvider(this, "cloudflare", { apiToken: cloudflareToken.stringValue });

    this.observability = new AwsObservability(this, "observability", {
      namePrefix,
      environment: env.name,
      appLogRetentionDays: env.observability.appLogRetentionDays,
      systemLogRetentionDays: env.observability.systemLogRetentionDays,
      diskUsageAlarmPercent: env.observability.diskUsageAlarmPercent,
      ...(env.observability.alarmEmail ? { alarmEmail: env.observability.alarmEmail } : {}),
    });

    this.registry = hosts.registry ? new AwsRegistry(this, "registry", { bucketName: `${bucketPrefix}-registry` }) : undefined;

    this.backups = new AwsBackups(this, "backups", {
      namePrefix,
      environment: env.name,
      region: env.aws.region,
      bucketName: `${bucketPrefix}-backups`,
      ...(env.backups.existingBucket ? { existingBucket: env.backups.existingBucket } : {}),
      retentionDays: env.backups.retentionDays,
      schedule: env.backups.schedule,
      snapshotRetentionDays: env.backups.snapshotRetentionDays,
      snapshotTarget: snapshotTag,
      maxAgeHours: env.backups.maxAgeHours,
      alarmActions: this.observability.alarmActions,
    });

    const bootSecrets: BootSecret[] = [
      ...gitlabSecrets(env.gitlab).map((s) => ({ name: s.name, arn: s.ref.secretsManagerArn })),
      { name: TLS_CERTIFICATE, arn: env.tls.certificate.secretsManagerArn },
      { name: TLS_PRIVATE_KEY, arn: env.tls.privateKey.secretsManagerArn },
    ];

    this.gitlab = new AwsGitLabServer(this, "gitlab-server", {
      namePrefix,
      gitlabVersion: env.gitlab.version,
      region: env.aws.region,
      vpcId: env.aws.vpcId,
      subnetId: env.aws.publicSubnetId,
      instanceType: env.aws.instanceType,
      ami: env.aws.ami,
      rootVolumeGb: env.aws.rootVolumeGb,
      dataVolumeGb: env.aws.dataVolumeGb,
      bootSecrets,
      applicationSettings: applicationSettings(env),
      tags: env.aws.tags,
      hostFiles: [...this.backups.hostFiles, ...this.observability.hostFiles],
      hostUnits: [...this.backups.hostUnits],
      dataVolumeSnapshotTag: snapshotTag,
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
          ...(this.registry ? { registryS3: { bucket: this.registry.bucket.bucket, region: env.aws.region } } : {}),
          backupUpload: this.backups.upload,
          // The data volume outlives the instance: the files' owners must not move.
          accountIds: pinnedAccountIds(),
        },
      }),
    });
    // Its first boot uses all of these: the instance is created after them.
    this.gitlab.bootsAfter(
      ...(this.registry ? [this.registry.grantReadWrite(this.gitlab.role)] : []),
      this.backups.grantBackupWriter(this.gitlab.role),
      this.observability.grantAgent(this.gitlab.role),
      ...Object.values(this.observability.logGroups),
    );
    this.observability.watchServer(this.gitlab.instance, SERVER_DISKS);
    this.observability.watchBootstrap("server", this.gitlab.bootstrapMetricHost);

    this.runners = awsRunners(this, env, { namePrefix, bucketPrefix, gitlabUrl: `https://${hosts.web}` }, this.observability);

    new AwsDnsTls(this, "dns-tls", {
      zoneId: env.dns.zoneId,
      address: this.gitlab.elasticIp.publicIp,
      proxied: env.dns.proxied,
      webHosts: [{ id: "gitlab", name: hosts.web }, ...(hosts.registry ? [{ id: "registry", name: hosts.registry }] : [])],
      sshHost: hosts.ssh,
      strictSslMode: env.tls.strictSslMode,
    });

    new TerraformOutput(this, "web_url", { value: `https://${hosts.web}`, description: "GitLab web UI and API" });
    new TerraformOutput(this, "git_ssh_host", { value: hosts.ssh, description: "Host for git over SSH (DNS-only record)" });
    new TerraformOutput(this, "git_ssh_port", { value: env.gitlab.sshPort });
    if (hosts.registry) new TerraformOutput(this, "registry_url", { value: `https://${hosts.registry}` });
    new TerraformOutput(this, "instance_id", {
      value: this.gitlab.instance.id,
      description: "aws ssm start-session --target <instance_id>",
    });
    new TerraformOutput(this, "elastic_ip", { value: this.gitlab.elasticIp.publicIp });
    new TerraformOutput(this, "data_volume_id", { value: this.gitlab.dataVolume.id });
    new TerraformOutput(this, "server_security_group_id", { value: this.gitlab.securityGroup.id });
    if (this.registry) new TerraformOutput(this, "registry_bucket", { value: this.registry.bucket.bucket });
    new TerraformOutput(this, "backup_bucket", { value: this.backups.bucketName });
    runnerOutputs(this, this.runners);
    new TerraformOutput(this, "log_groups", {
      value: [...Object.values(this.observability.logGroups), ...Object.values(this.runners.logGroups)].map((g) => g.name),
    });
  }
}
