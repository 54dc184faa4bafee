// The worker group of a jobs-mode fleet: a 100 % Spot Auto Scaling group that the runner
// manager's fleeting plugin scales from the job queue, as GitLab documents it for the AWS
// plugin: min 0, the desired capacity the plugin's alone (Terraform ignores it), no scaling
// policy and no lifecycle hook of its own, scale-in protection on (only the plugin removes
// instances) and AZRebalance suspended (Auto Scaling must not move instances the plugin has
// given jobs to). Workers have no IAM role and take SSH from the manager's security group only.
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import type { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import type { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { ROLE_TAG } from "../../../policies/types";
import { WORKER_LOGIN_USER } from "../../../userdata/runner-manager-user-data";
import { renderRunnerWorkerUserData } from "../../../userdata/runner-worker-user-data";
import { gzippedUserData } from "../../ec2-user-data";
import { egressOnlySecurityGroup } from "../../egress-only-security-group";

/** The Auto Scaling group metrics the "runners at maximum" alarm reads. */
export const GROUP_METRICS = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize", "GroupPendingInstances", "GroupTerminatingInstances"];

export interface RunnerWorkerGroupProps {
  /** Name of the group, its security group and its instances, e.g. 'staging-gitlab-runner-workers'. */
  readonly name: string;
  readonly region: string;
  readonly vpcId: string;
  /** Private subnets (with NAT); workers get no public IP. */
  readonly subnetIds: readonly string[];
  /** Spot instance types, in order of preference. */
  readonly instanceTypes: readonly string[];
  /** The group's max_size: the plugin's max_instances. */
  readonly maxInstances: number;
  /** Each worker's root volume: the images, layers and build directories of its jobs. */
  readonly rootVolumeGb: number;
  readonly ami: DataAwsAmi;
  /** Tags on every resource and instance. */
  readonly tags: Readonly<Record<string, string>>;
}

export class RunnerWorkerGroup extends Construct {
  readonly autoScalingGroup: AutoscalingGroup;
  readonly securityGroup: SecurityGroup;
  readonly launchTemplate: LaunchTemplate;
  private readonly props: RunnerWorkerGroupProps;

  constructor(scope: Construct, id: string, props: RunnerWorkerGroupProps) {
    super(scope, id);
    this.props = props;
    const tags = { ...props.tags, Name: props.name };
    // The ingress policy admits SSH from the manager's group, and nothing else, on this role.
    this.securityGroup = egressOnlySecurityGroup(this, {
      name: props.name,
      description: "GitLab runner workers: SSH from the runner manager only; egress HTTPS, HTTP, DNS",
      vpcId: props.vpcId,
      tags,
      role: "runner-worker",
    });
    this.launchTemplate = this.workerLaunchTemplate(tags);
    this.autoScalingGroup = this.workerGroup(tags);
  }

  /** SSH from the manager's security group to the workers', and nothing else reaches them. */
  admitSshFrom(manager: SecurityGroup): void {
    new VpcSecurityGroupIngressRule(this, "ingress-ssh-from-manager", {
      securityGroupId: this.securityGroup.id,
      description: "ssh from the runner manager",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      referencedSecurityGroupId: manager.id,
    });
    new VpcSecurityGroupEgressRule(this, "manager-egress-ssh", {
      securityGroupId: manager.id,
      description: "ssh to the runner workers",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      referencedSecurityGroupId: this.securityGroup.id,
    });
  }

  /**
   * What the fleeting plugin for AWS does with the group, for `grantee` (the manager's role):
   * read it, set its desired capacity and terminate its instances, and push a one-minute SSH
   * key to its instances (EC2 Instance Connect) for the workers' login user. Describe calls
   * cannot be scoped by AWS: "*".
   */
  grantDriving(grantee: IamRole): IamRolePolicy {
    const account = new DataAwsCallerIdentity(this, "account");
    return new IamRolePolicy(this, "drive-workers", {
      role: grantee.id,
      name: "drive-runner-workers",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ScaleOwnWorkerGroup",
            Effect: "Allow",
            Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            Resource: [this.autoScalingGroup.arn],
          },
          {
            Sid: "ReadWorkerGroup",
            Effect: "Allow",
            // The plugin's releases have listed the group's instances with one or the other.
            Action: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "ec2:DescribeInstances"],
            Resource: "*",
          },
          {
            Sid: "ConnectToOwnWorkers",
            Effect: "Allow",
            Action: ["ec2-instance-connect:SendSSHPublicKey"],
            Resource: `arn:aws:ec2:${this.props.region}:${account.accountId}:instance/*`,
            Condition: { StringEquals: { "ec2:ResourceTag/aws:autoscaling:groupName": this.props.name, "ec2:osuser": WORKER_LOGIN_USER } },
          },
        ],
      }),
    });
  }

  private workerLaunchTemplate(tags: Record<string, string>): LaunchTemplate {
    const ami = this.props.ami;
    return new LaunchTemplate(this, "launch-template", {
      namePrefix: `${this.props.name}-`,
      description: "GitLab runner worker on Amazon Linux 2023 (Spot): Docker for the manager's jobs",
      imageId: ami.id,
      // No instance profile: jobs on a worker reach no AWS credentials at all. IMDSv2 with a
      // hop limit of 1 all the same.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      blockDeviceMappings: [
        { deviceName: ami.rootDeviceName, ebs: { volumeSize: this.props.rootVolumeGb, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
      ],
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: "false", securityGroups: [this.securityGroup.id], deleteOnTermination: "true" }],
      userData: gzippedUserData(renderRunnerWorkerUserData(), "runner worker"),
      instanceInitiatedShutdownBehavior: "terminate",
      updateDefaultVersion: true,
      tagSpecifications: [
        { resourceType: "instance", tags },
        { resourceType: "volume", tags: { ...tags, Name: `${this.props.name}-root` } },
      ],
      tags,
    });
  }

  private workerGroup(tags: Record<string, string>): AutoscalingGroup {
    return new AutoscalingGroup(this, "asg", {
      name: this.props.name,
      vpcZoneIdentifier: [...this.props.subnetIds],
      minSize: 0,
      maxSize: this.props.maxInstances,
      desiredCapacity: 0,
      protectFromScaleIn: true,
      suspendedProcesses: ["AZRebalance"],
      // No capacity rebalancing: it would launch and remove instances behind the plugin's back.
      capacityRebalance: false,
      healthCheckType: "EC2",
      enabledMetrics: GROUP_METRICS,
      mixedInstancesPolicy: {
        instancesDistribution: { onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: "price-capacity-optimized" },
        launchTemplate: {
          launchTemplateSpecification: { launchTemplateId: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
          override: this.props.instanceTypes.map((instanceType) => ({ instanceType })),
        },
      },
      tag: [
        ...Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        // The policy AWS-RUNNER-WORKER-GROUP knows the group by it (on the group only).
        { key: ROLE_TAG, value: "runner-worker", propagateAtLaunch: false },
      ],
      // Its instances are protected from scale-in: without this, destroying the group (or
      // switching to scaling: cpu) would wait for them forever.
      forceDelete: true,
      // The plugin owns the desired capacity; an apply must never reset it under running jobs.
      lifecycle: { ignoreChanges: ["desired_capacity"] },
    });
  }
}
