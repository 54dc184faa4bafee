// The aws platform's stack: providers, variables and outputs, and the constructs wired together.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { AwsEnvironmentConfig } from "../config/schema/index";
import type { Environment } from "../config/load";
import { AwsGitLabServer } from "../constructs/gitlab-server/aws";
import { bootSecretFile, type BootSecret } from "../userdata/gitlab-server-user-data";
import { useLocalState } from "./backend";
import { hostNames } from "./host-names";
import { applicationSettings, DAY_SECONDS, gitlabSecrets, monitoringWhitelist, omnibusSettings } from "./omnibus-settings";

export type AwsEnvironment = Environment & AwsEnvironmentConfig;

const TLS_CERTIFICATE = "tls_certificate";
const TLS_PRIVATE_KEY = "tls_private_key";

export class AwsEnvironmentStack extends TerraformStack {
  readonly gitlab: AwsGitLabServer;

  constructor(scope: Construct, env: AwsEnvironment) {
    super(scope, env.name);
    const hosts = hostNames(env);
    const namePrefix = `${env.name}-gitlab`;

    useLocalState(this, env.name);
    new AwsProvider(this, "aws", {
      region: env.aws.region,
      defaultTags: [{ tags: { ...env.aws.tags, Environment: env.name, ManagedBy: "gitlab-platform" } }],
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
      ubuntuRelease: env.aws.ubuntuRelease,
      rootVolumeGb: env.aws.rootVolumeGb,
      dataVolumeGb: env.aws.dataVolumeGb,
      bootSecrets,
      applicationSettings: applicationSettings(env),
      tags: env.aws.tags,
      omnibus: omnibusSettings(env, {
        tls: {
          mode: "certificate",
          certificatePath: bootSecretFile(TLS_CERTIFICATE).file,
          keyPath: bootSecretFile(TLS_PRIVATE_KEY).file,
        },
        monitoring: { whitelist: monitoringWhitelist(env.aws.vpcCidr), exportersOnAllInterfaces: false },
        secretSource: bootSecretFile,
        // Archives are uploaded to S3; keep only a day's worth on the data volume.
        backupKeepSeconds: DAY_SECONDS,
      }),
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
  }
}
