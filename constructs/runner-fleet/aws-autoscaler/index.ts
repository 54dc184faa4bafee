// Runners that follow the job queue (runners.scaling: jobs): one runner manager with the
// docker-autoscaler executor and GitLab's fleeting plugin for AWS, which scales a Spot worker
// group from the jobs waiting, down to none, with idle capacity by schedule. The stack
// creates it under the same id as the cpu fleet ("runner-fleet"): the cache bucket and the
// log groups (runnerStorage) keep their addresses when the scaling mode changes; everything
// else has names of its own, so both modes' resources never collide during the switch.
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Construct } from "constructs";
import type { JobsRunnersConfig } from "../../../config/schema/aws-runners";
import { renderRunnerManagerUserData } from "../../../userdata/runner-manager-user-data";
import { latestAmazonLinux2023 } from "../al2023";
import { runnerStorage } from "../aws-storage";
import { RunnerManager } from "./manager";
import { RunnerWorkerGroup } from "./workers";

export interface AwsRunnerAutoscalerProps {
  /** The runner settings from config, whole (scaling: jobs). */
  readonly settings: JobsRunnersConfig;
  /** The Secrets Manager secret holding the runner token: the one secret the manager reads. */
  readonly tokenSecretArn: string;
  /** How the manager names that secret when it reads it: its ARN, or its name when the ARN is only known at apply. @default tokenSecretArn */
  readonly tokenSecretId?: string;
  /** Prefix of every resource name, e.g. 'staging-gitlab'. */
  readonly namePrefix: string;
  /** Environment name; the log groups are /<environment>/gitlab-runner/{runner,system}. */
  readonly environment: string;
  readonly region: string;
  readonly vpcId: string;
  /** Private subnets (with NAT) for the manager and the workers; none gets a public IP. */
  readonly subnetIds: readonly string[];
  /** Globally unique name of the shared S3 cache bucket. */
  readonly cacheBucketName: string;
  /** GitLab's external URL the manager polls (and the workers' jobs clone from). */
  readonly gitlabUrl: string;
  /** Days CloudWatch keeps the manager's runner and system logs. */
  readonly logRetentionDays: { readonly runner: number; readonly system: number };
  /** Tags on every resource (and propagated to the instances). */
  readonly tags: Readonly<Record<string, string>>;
}

export class AwsRunnerAutoscaler extends Construct {
  readonly manager: RunnerManager;
  readonly workers: RunnerWorkerGroup;
  /** The shared, disposable S3 cache; only the manager's role reaches it (it presigns URLs for the workers). */
  readonly cacheBucket: S3Bucket;
  readonly logGroups: { readonly runner: CloudwatchLogGroup; readonly system: CloudwatchLogGroup };
  /** The Host dimension of the BootstrapFailed metric the manager sends: its group's name. */
  readonly bootstrapMetricHost: string;

  constructor(scope: Construct, id: string, props: AwsRunnerAutoscalerProps) {
    super(scope, id);
    if (props.subnetIds.length === 0) throw new Error("runner fleet needs at least one private subnet");
    if (!/^[a-z0-9][a-z0-9-]*$/.test(props.namePrefix)) throw new Error(`namePrefix '${props.namePrefix}' must be lower-case letters, digits and dashes`);
    const s = props.settings;
    const names = { manager: `${props.namePrefix}-runner-manager`, workers: `${props.namePrefix}-runner-workers` };
    const storage = runnerStorage(this, { ...props, cacheExpirationDays: s.cacheExpirationDays, tags: { ...props.tags, Name: `${props.namePrefix}-runner` } });
    this.cacheBucket = storage.cacheBucket;
    this.logGroups = storage.logGroups;
    this.bootstrapMetricHost = names.manager;

    const ami = latestAmazonLinux2023(this, "al2023");
    const network = { vpcId: props.vpcId, subnetIds: props.subnetIds };
    this.workers = new RunnerWorkerGroup(this, "workers", {
      ...network,
      name: names.workers,
      region: props.region,
      instanceTypes: s.instanceTypes,
      maxInstances: s.maxInstances,
      rootVolumeGb: s.rootVolumeGb,
      ami,
      tags: props.tags,
    });
    this.manager = new RunnerManager(this, "manager", {
      ...network,
      name: names.manager,
      ...s.manager,
      ami,
      tokenSecretArn: props.tokenSecretArn,
      logGroupArns: [this.logGroups.runner.arn, this.logGroups.system.arn],
      userData: renderRunnerManagerUserData({
        settings: s,
        tokenSecretId: props.tokenSecretId ?? props.tokenSecretArn,
        region: props.region,
        managerGroupName: names.manager,
        workerGroupName: names.workers,
        gitlabUrl: props.gitlabUrl,
        cacheBucket: this.cacheBucket.bucket,
        // Literal names (the manager boots after the log groups exist): readable user data.
        logGroups: storage.logGroupNames,
      }),
      tags: props.tags,
    });
    this.workers.admitSshFrom(this.manager.securityGroup);
    // The manager's first boot uses all of these.
    this.manager.bootsAfter(
      this.workers.grantDriving(this.manager.role),
      this.grantCache(this.manager.role),
      this.logGroups.runner,
      this.logGroups.system,
      this.workers.autoScalingGroup,
    );
  }

  /** The cache for `grantee`: list the bucket, read, write and delete its objects. */
  grantCache(grantee: IamRole): IamRolePolicy {
    return new IamRolePolicy(this, "cache-access", {
      role: grantee.id,
      name: "runner-cache",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "CacheBucketList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [this.cacheBucket.arn] },
          { Sid: "CacheObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${this.cacheBucket.arn}/*`] },
        ],
      }),
    });
  }
}
