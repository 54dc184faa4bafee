// The runner fleet of runners.scaling: cpu: GitLab Runner (docker executor) on a 100 % Spot Auto Scaling
// group of Amazon Linux 2023 instances in private subnets, with a shared S3 cache, CloudWatch
// logs and metrics, and a graceful shutdown on Spot interruption or scale-in (a termination
// lifecycle hook the instance completes itself once its jobs are done).
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { AutoscalingPolicy } from "@cdktf/provider-aws/lib/autoscaling-policy";
import type { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import type { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Token } from "cdktf";
import { Construct } from "constructs";
import type { CpuRunnersConfig } from "../../config/schema/aws-runners";
import { renderRunnerFleetUserData, TERMINATION_HOOK_NAME } from "../../userdata/runner-fleet-user-data";
import { gzippedUserData } from "../ec2-user-data";
import { AGENT_METRICS_STATEMENT, agentLogsStatement, BOOTSTRAP_METRICS_STATEMENT } from "../observability/aws";
import { egressOnlySecurityGroup } from "../egress-only-security-group";
import { instanceRole } from "../instance-role";
import { latestAmazonLinux2023 } from "./al2023";
import { runnerStorage } from "./aws-storage";

/** Seconds the Auto Scaling group waits for the instance to finish its jobs and unregister. */
export const TERMINATION_HOOK_TIMEOUT_SECONDS = 600;
/**
 * How long Auto Scaling waits before acting on a new instance's failed EC2 status checks. The
 * group uses EC2 checks only, and a runner whose bootstrap fails powers itself off, which
 * Auto Scaling acts on at once even within this period (an instance no longer running is
 * replaced immediately): so it only spares an instance whose status checks stumble while it
 * boots, and is short. (Terraform's default is 300 s.)
 */
export const RUNNER_HEALTH_CHECK_GRACE_SECONDS = 120;

export interface AwsRunnerFleetProps {
  /** Prefix of every resource name, e.g. 'staging-gitlab'. */
  readonly namePrefix: string;
  /** Environment name; the log groups are /<environment>/gitlab-runner/{runner,system}. */
  readonly environment: string;
  /** AWS region of the stack (S3 cache location, Secrets Manager, the group's ARN). */
  readonly region: string;
  readonly vpcId: string;
  /** Private subnets (with NAT) the instances run in; they get no public IP. */
  readonly subnetIds: readonly string[];
  /** Globally unique name of the shared S3 cache bucket, e.g. 'staging-gitlab-runner-cache'. */
  readonly cacheBucketName: string;
  /** GitLab's external URL the runners poll. */
  readonly gitlabUrl: string;
  /**
   * The runner settings from config, whole: version, token, sizes, scaling target, cache
   * expiry and the job container (config/schema/aws-runners.ts holds the defaults).
   */
  readonly settings: CpuRunnersConfig;
  /** Secrets Manager ARN of the runner authentication token (glrt-…); the only secret the instances may read. */
  readonly tokenSecretArn: string;
  /** How the instances name that secret when they read it: its ARN, or its name when the ARN is only known at apply. @default tokenSecretArn */
  readonly tokenSecretId?: string;
  /** Days CloudWatch keeps the runner's and the system's logs. */
  readonly logRetentionDays: { readonly runner: number; readonly system: number };
  /** Tags on every resource (and propagated to the instances). */
  readonly tags: Readonly<Record<string, string>>;
}

/** The props, refused when the construct could not build a working group from them. */
function validated(p: AwsRunnerFleetProps): AwsRunnerFleetProps {
  const s = p.settings;
  if (p.subnetIds.length === 0) throw new Error("runner fleet needs at least one private subnet");
  if (s.instanceTypes.length === 0) throw new Error("runner fleet needs at least one instance type");
  if (!(s.minSize <= s.desiredCapacity && s.desiredCapacity <= s.maxSize)) {
    throw new Error(`runner fleet sizes must satisfy minSize <= desiredCapacity <= maxSize (got ${s.minSize}/${s.desiredCapacity}/${s.maxSize})`);
  }
  if (!/^[a-z0-9][a-z0-9-]*$/.test(p.namePrefix)) throw new Error(`namePrefix '${p.namePrefix}' must be lower-case letters, digits and dashes`);
  return p;
}

export class AwsRunnerFleet extends Construct {
  readonly autoScalingGroup: AutoscalingGroup;
  /** The shared, disposable S3 cache. */
  readonly cacheBucket: S3Bucket;
  readonly logGroups: { readonly runner: CloudwatchLogGroup; readonly system: CloudwatchLogGroup };
  /** Egress-only: the runners poll GitLab; nothing connects to them. */
  readonly securityGroup: SecurityGroup;
  /** The instances' role. */
  readonly role: IamRole;
  /** The Host dimension of the BootstrapFailed metric a failed bootstrap sends: the group's name. */
  readonly bootstrapMetricHost: string;
  readonly launchTemplate: LaunchTemplate;

  constructor(scope: Construct, id: string, props: AwsRunnerFleetProps) {
    super(scope, id);
    const p = validated(props);
    const name = `${p.namePrefix}-runner`;
    const tags = (suffix = "") => ({ ...p.tags, Name: `${name}${suffix}` });

    // The cache bucket and the log groups (kept when the scaling mode changes).
    const storage = runnerStorage(this, {
      environment: p.environment,
      cacheBucketName: p.cacheBucketName,
      cacheExpirationDays: p.settings.cacheExpirationDays,
      logRetentionDays: p.logRetentionDays,
      tags: tags(),
    });
    this.cacheBucket = storage.cacheBucket;
    this.logGroups = storage.logGroups;
    this.securityGroup = egressOnlySecurityGroup(this, {
      name,
      description: "GitLab runners: no ingress (they poll GitLab); egress HTTPS, HTTP, DNS only",
      vpcId: p.vpcId,
      tags: tags(),
      role: "runner",
    });
    const { role, sessionManager, profile } = instanceRole(this, { name, tags: tags(), profileTags: tags() });
    this.role = role;
    const policy = this.runnerPolicy(p, name);
    this.bootstrapMetricHost = name;
    this.launchTemplate = this.runnerLaunchTemplate(p, name, profile, storage.logGroupNames);
    this.autoScalingGroup = this.runnerGroup(p, name, [policy, sessionManager]);
    this.scaleOnCpu(p, name);
  }

  /** Exactly this fleet's bucket, log groups, token and termination hook. */
  private runnerPolicy(p: AwsRunnerFleetProps, name: string): IamRolePolicy {
    const account = new DataAwsCallerIdentity(this, "account");
    const asgArn = `arn:aws:autoscaling:${p.region}:${account.accountId}:autoScalingGroup:*:autoScalingGroupName/${name}`;
    return new IamRolePolicy(this, "runner-policy", {
      role: this.role.id,
      name: "gitlab-runner",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "CacheBucketList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [this.cacheBucket.arn] },
          {
            Sid: "CacheObjects",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            Resource: [`${this.cacheBucket.arn}/*`],
          },
          agentLogsStatement([this.logGroups.runner.arn, this.logGroups.system.arn]),
          { Sid: "RunnerToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [p.tokenSecretArn] },
          // Completing its termination hook. Not SetInstanceHealth: it cannot be limited to the
          // caller's own instance, and every job with the Docker socket holds this role.
          { Sid: "OwnGroupLifecycle", Effect: "Allow", Action: ["autoscaling:CompleteLifecycleAction"], Resource: [asgArn] },
          AGENT_METRICS_STATEMENT,
          BOOTSTRAP_METRICS_STATEMENT,
        ],
      }),
    });
  }

  /**
   * Looked up at every plan; the group does NOT refresh its instances by itself: a newer AMI
   * (or new user data) becomes a new template version that applies to instances launched
   * from then on — the next scale-out, Spot replacement or a manual recycle.
   */
  private runnerLaunchTemplate(
    p: AwsRunnerFleetProps,
    name: string,
    profile: IamInstanceProfile,
    logGroupNames: { readonly runner: string; readonly system: string },
  ): LaunchTemplate {
    const tags = (suffix = "") => ({ ...p.tags, Name: `${name}${suffix}` });
    const ami = latestAmazonLinux2023(this, "al2023");
    const userData = renderRunnerFleetUserData({
      settings: p.settings,
      region: p.region,
      autoScalingGroupName: name,
      tokenSecretId: p.tokenSecretId ?? p.tokenSecretArn,
      gitlabUrl: p.gitlabUrl,
      runnerName: `${name}-{hostname}`,
      cacheBucket: this.cacheBucket.bucket,
      // Literal names (the group depends on the log groups): keeps the user data readable.
      logGroups: { runner: logGroupNames.runner, system: logGroupNames.system },
    });
    return new LaunchTemplate(this, "launch-template", {
      namePrefix: `${name}-`,
      description: "GitLab Runner on Amazon Linux 2023 (Spot)",
      imageId: ami.id,
      iamInstanceProfile: { arn: profile.arn },
      // IMDSv2 only, and a hop limit of 1: the token answer cannot cross the Docker bridge,
      // so job containers cannot get the role's credentials (the runner token, the cache).
      // The runner itself (on the host) presigns cache URLs, so jobs need no IMDS. Jobs with
      // the Docker socket can still start a host-network container: see the README.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      blockDeviceMappings: [
        {
          deviceName: ami.rootDeviceName,
          ebs: { volumeSize: p.settings.rootVolumeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", securityGroups: [this.securityGroup.id], deleteOnTermination: "true" }],
      userData: gzippedUserData(userData, "runner"),
      // A runner whose bootstrap failed powers itself off: that is its termination.
      instanceInitiatedShutdownBehavior: "terminate",
      updateDefaultVersion: true,
      tagSpecifications: [
        { resourceType: "instance", tags: tags() },
        { resourceType: "volume", tags: tags("-root") },
      ],
      tags: tags(),
    });
  }

  /** 100 % Spot, several types, the termination hook declared with the group. */
  private runnerGroup(p: AwsRunnerFleetProps, name: string, grants: readonly IamRolePolicy[]): AutoscalingGroup {
    const tags = { ...p.tags, Name: name };
    return new AutoscalingGroup(this, "asg", {
      name,
      vpcZoneIdentifier: [...p.subnetIds],
      minSize: p.settings.minSize,
      maxSize: p.settings.maxSize,
      desiredCapacity: p.settings.desiredCapacity,
      capacityRebalance: true,
      defaultInstanceWarmup: 300,
      healthCheckType: "EC2",
      healthCheckGracePeriod: RUNNER_HEALTH_CHECK_GRACE_SECONDS,
      // Group metrics are off unless asked for; the "runners at maximum" alarm reads these.
      enabledMetrics: ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize", "GroupPendingInstances", "GroupTerminatingInstances"],
      mixedInstancesPolicy: {
        instancesDistribution: {
          onDemandBaseCapacity: 0,
          onDemandPercentageAboveBaseCapacity: 0,
          spotAllocationStrategy: "price-capacity-optimized",
        },
        launchTemplate: {
          launchTemplateSpecification: { launchTemplateId: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
          override: p.settings.instanceTypes.map((instanceType) => ({ instanceType })),
        },
      },
      // Declared on the group, so it exists before the first instance launches (a separate
      // aws_autoscaling_lifecycle_hook is created after the group and misses those).
      initialLifecycleHook: [
        {
          name: TERMINATION_HOOK_NAME,
          lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
          heartbeatTimeout: TERMINATION_HOOK_TIMEOUT_SECONDS,
          defaultResult: "CONTINUE",
        },
      ],
      tag: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      // Instances boot only once they can read the token and write their logs.
      dependsOn: [...grants, this.logGroups.runner, this.logGroups.system],
      // The scaling policy moves desired_capacity; without this every apply would reset it
      // to the configured value and undo (or force) a scale-out in the middle of the day.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });
  }

  private scaleOnCpu(p: AwsRunnerFleetProps, name: string): void {
    new AutoscalingPolicy(this, "cpu-target", {
      name: `${name}-cpu-target`,
      autoscalingGroupName: this.autoScalingGroup.name,
      policyType: "TargetTrackingScaling",
      targetTrackingConfiguration: {
        predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
        targetValue: p.settings.cpuTargetPercent,
      },
    });
  }
}
