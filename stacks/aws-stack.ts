// The aws platform's stack: providers, variables and outputs, and the capabilities wired
// together. Wiring only: what each construct gets is mapped from the environment in
// stacks/aws/, and constructs are joined by the objects themselves.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { CloudflareProvider } from "@cdktf/provider-cloudflare/lib/provider";
import { TerraformOutput, TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import type { Environment } from "../config/load";
import type { AwsEnvironmentConfig } from "../config/schema/index";
import { AwsBackups } from "../constructs/backups/aws";
import { AwsDnsTls } from "../constructs/dns-tls/aws";
import { AwsAutomationToken, automationTokenSecretName } from "../constructs/gitlab-server/automation-token-aws";
import { AwsGitLabServer } from "../constructs/gitlab-server/aws";
import { AwsObservability, SERVER_DISKS } from "../constructs/observability/aws";
import { AwsRegistry } from "../constructs/registry/aws";
import { gitlabServerProps } from "./aws/gitlab-server";
import { awsNames } from "./aws/naming";
import { backupsProps, observabilityProps } from "./aws/observability-backups";
import { awsRunners, runnerOutputs, type AwsRunners } from "./aws/runner-fleet";
import { DNS_ONLY_SSH_HOST, EnvironmentStack } from "./environment-stack";

export type AwsEnvironment = Environment & AwsEnvironmentConfig;

export class AwsEnvironmentStack extends EnvironmentStack {
  readonly gitlab: AwsGitLabServer;
  readonly registry?: AwsRegistry;
  readonly backups: AwsBackups;
  readonly observability: AwsObservability;
  readonly runners: AwsRunners;
  /** The automation token's secret ('<env>-gitlab/automation-token'), read by the second stack. */
  readonly automationToken: AwsAutomationToken;

  constructor(scope: Construct, env: AwsEnvironment) {
    super(scope, env, { gitSshPort: env.gitlab.sshPort, webBehindCloudflare: env.dns.proxied });
    const names = awsNames(env);
    this.providers(env);

    this.observability = new AwsObservability(this, "observability", observabilityProps(env, names));
    this.registry = this.hosts.registry ? new AwsRegistry(this, "registry", { bucketName: `${names.bucketPrefix}-registry` }) : undefined;
    this.backups = new AwsBackups(this, "backups", backupsProps(env, names, this.observability));
    this.automationToken = new AwsAutomationToken(this, "automation-token", { secretName: automationTokenSecretName(env.name), region: env.aws.region });
    this.gitlab = new AwsGitLabServer(this, "gitlab-server", gitlabServerProps(env, names, this));
    // Its first boot uses all of these: the instance is created after them.
    this.gitlab.bootsAfter(
      ...(this.registry ? [this.registry.grantReadWrite(this.gitlab.role)] : []),
      this.backups.grantBackupWriter(this.gitlab.role),
      this.observability.grantAgent(this.gitlab.role),
      this.automationToken.grantRenew(this.gitlab.role),
      ...Object.values(this.observability.logGroups),
    );
    this.observability.watchServer(this.gitlab.instance, SERVER_DISKS);
    this.observability.watchBootstrap("server", this.gitlab.bootstrapMetricHost);

    this.runners = awsRunners(this, env, { ...names, gitlabUrl: `https://${this.hosts.web}` }, this.observability);

    new AwsDnsTls(this, "dns-tls", {
      zoneId: env.dns.zoneId,
      address: this.gitlab.elasticIp.publicIp,
      proxied: env.dns.proxied,
      webHosts: [{ id: "gitlab", name: this.hosts.web }, ...(this.hosts.registry ? [{ id: "registry", name: this.hosts.registry }] : [])],
      sshHost: this.hosts.ssh,
      strictSslMode: env.tls.strictSslMode,
    });
    this.outputs(env);
  }

  private providers(env: AwsEnvironment): void {
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
  }

  private outputs(env: AwsEnvironment): void {
    this.addressOutputs(env, { url: `https://${this.hosts.web}`, sshDescription: DNS_ONLY_SSH_HOST });
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
