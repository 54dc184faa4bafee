// The runner manager of a jobs-mode fleet: a one-instance Auto Scaling group (on-demand or
// Spot) that keeps one gitlab-runner with the docker-autoscaler executor running. The group
// replaces a failed or interrupted manager; its termination hook lets the leaving manager
// drain (stop taking jobs, let running ones finish, unregister) as the cpu fleet's runners do.
// No ingress, IMDSv2 with a hop limit of 1, no capacity rebalancing: two managers must never
// drive the worker group at once (the bootstrap also waits for a predecessor to leave).
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import type { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import type { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Token, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { TERMINATION_HOOK_NAME } from "../../../userdata/runner-fleet-user-data";
import { gzippedUserData } from "../../ec2-user-data";
import { AGENT_METRICS_STATEMENT, agentLogsStatement, BOOTSTRAP_METRICS_STATEMENT } from "../../observability/aws";
import { egressOnlySecurityGroup } from "../../egress-only-security-group";
import { instanceRole } from "../../instance-role";
import { RUNNER_HEALTH_CHECK_GRACE_SECONDS, TERMINATION_HOOK_TIMEOUT_SECONDS } from "../aws";
import { GROUP_METRICS } from "./workers";

const BURSTABLE = /^t[234][a-z]*\./;

export interface RunnerManagerProps {
  /** Name of the group, its role, security group and instance, e.g. 'staging-gitlab-runner-manager'. */
  readonly name: string;
  readonly vpcId: string;
  /** Private subnets (with NAT); the manager gets no public IP. */
  readonly subnetIds: readonly string[];
  readonly instanceType: string;
  readonly purchaseOption: "on-demand" | "spot";
  readonly rootVolumeGb: number;
  readonly ami: DataAwsAmi;
  /** The manager's cloud-config (userdata/runner-manager-user-data.ts). */
  readonly userData: string;
  /** Secrets Manager ARN of the runner authentication token: the one secret the manager reads. */
  readonly tokenSecretArn: string;
  /** The log groups its CloudWatch agent writes (runner, system). */
  readonly logGroupArns: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

export class RunnerManager extends Construct {
  readonly autoScalingGroup: AutoscalingGroup;
  /** No ingress; egress HTTPS, HTTP, DNS, and SSH to the workers (added by the worker group). */
  readonly securityGroup: SecurityGroup;
  readonly role: IamRole;
  readonly launchTemplate: LaunchTemplate;
  private readonly props: RunnerManagerProps;
  private readonly tags: Record<string, string>;

  constructor(scope: Construct, id: string, props: RunnerManagerProps) {
    super(scope, id);
    this.props = props;
    this.tags = { ...props.tags, Name: props.name };
    this.securityGroup = egressOnlySecurityGroup(this, {
      name: props.name,
      description: "GitLab runner manager: no ingress (it polls GitLab); egress HTTPS, HTTP, DNS, and SSH to its workers",
      vpcId: props.vpcId,
      tags: this.tags,
      role: "runner-manager",
    });
    const { role, sessionManager, profile } = instanceRole(this, { name: props.name, tags: this.tags, profileTags: this.tags });
    this.role = role;
    this.launchTemplate = this.managerLaunchTemplate(profile);
    this.autoScalingGroup = this.managerGroup();
    this.bootsAfter(sessionManager, this.ownPolicy());
  }

  /** The manager boots only once these exist (its grants, its log groups, the worker group). */
  bootsAfter(...dependencies: ITerraformDependable[]): void {
    this.autoScalingGroup.dependsOn = [...(this.autoScalingGroup.dependsOn ?? []), ...dependencies.map((d) => d.fqn)];
  }

  /** Its token, its own group's termination hook, its logs and metrics: exactly these. */
  private ownPolicy(): IamRolePolicy {
    return new IamRolePolicy(this, "policy", {
      role: this.role.id,
      name: "gitlab-runner-manager",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Sid: "RunnerToken", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [this.props.tokenSecretArn] },
          { Sid: "OwnGroupLifecycle", Effect: "Allow", Action: ["autoscaling:CompleteLifecycleAction"], Resource: [this.autoScalingGroup.arn] },
          agentLogsStatement(this.props.logGroupArns),
          AGENT_METRICS_STATEMENT,
          BOOTSTRAP_METRICS_STATEMENT,
        ],
      }),
    });
  }

  private managerLaunchTemplate(profile: IamInstanceProfile): LaunchTemplate {
    const ami = this.props.ami;
    return new LaunchTemplate(this, "launch-template", {
      namePrefix: `${this.props.name}-`,
      description: `GitLab runner manager (docker-autoscaler) on Amazon Linux 2023 (${this.props.purchaseOption})`,
      imageId: ami.id,
      iamInstanceProfile: { arn: profile.arn },
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      // Standard credits: a manager mostly waits, and standard mode never bills CPU above the baseline.
      ...(BURSTABLE.test(this.props.instanceType) ? { creditSpecification: { cpuCredits: "standard" } } : {}),
      blockDeviceMappings: [
        { deviceName: ami.rootDeviceName, ebs: { volumeSize: this.props.rootVolumeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
      ],
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", securityGroups: [this.securityGroup.id], deleteOnTermination: "true" }],
      userData: gzippedUserData(this.props.userData, "runner manager"),
      // A manager whose bootstrap failed powers itself off: that is its termination.
      instanceInitiatedShutdownBehavior: "terminate",
      updateDefaultVersion: true,
      tagSpecifications: [
        { resourceType: "instance", tags: this.tags },
        { resourceType: "volume", tags: { ...this.tags, Name: `${this.props.name}-root` } },
      ],
      tags: this.tags,
    });
  }

  private managerGroup(): AutoscalingGroup {
    const spot = this.props.purchaseOption === "spot";
    return new AutoscalingGroup(this, "asg", {
      name: this.props.name,
      vpcZoneIdentifier: [...this.props.subnetIds],
      minSize: 1,
      maxSize: 1,
      desiredCapacity: 1,
      capacityRebalance: false,
      healthCheckType: "EC2",
      healthCheckGracePeriod: RUNNER_HEALTH_CHECK_GRACE_SECONDS,
      enabledMetrics: GROUP_METRICS,
      mixedInstancesPolicy: {
        instancesDistribution: {
          onDemandBaseCapacity: spot ? 0 : 1,
          onDemandPercentageAboveBaseCapacity: spot ? 0 : 100,
          ...(spot ? { spotAllocationStrategy: "price-capacity-optimized" } : {}),
        },
        launchTemplate: {
          launchTemplateSpecification: { launchTemplateId: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
          override: [{ instanceType: this.props.instanceType }],
        },
      },
      initialLifecycleHook: [
        {
          name: TERMINATION_HOOK_NAME,
          lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
          heartbeatTimeout: TERMINATION_HOOK_TIMEOUT_SECONDS,
          defaultResult: "CONTINUE",
        },
      ],
      tag: Object.entries(this.tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    });
  }
}
