// GitLab CE (Omnibus) on one EC2 instance. Its data lives on a separate encrypted EBS
// volume mounted at /var/opt/gitlab, so the instance can be replaced (new AMI in config, new
// user data, new GitLab version) without losing repositories.
import { DataAwsAmi } from "@cdktf/provider-aws/lib/data-aws-ami";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { EipAssociation } from "@cdktf/provider-aws/lib/eip-association";
import type { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VolumeAttachment } from "@cdktf/provider-aws/lib/volume-attachment";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { dependable, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { ROLE_TAG } from "../../policies/types";
import type { ApplicationSettings } from "../../userdata/application-settings";
import type { OmnibusSettings } from "../../userdata/gitlab-rb";
import type { WriteFile } from "../../userdata/cloud-config";
import { renderGitlabServerUserData, type BootSecret } from "../../userdata/gitlab-server-user-data";
import { gzippedUserData } from "../ec2-user-data";
import { BOOTSTRAP_METRICS_STATEMENT } from "../observability/aws";
import { instanceRole } from "../instance-role";

/** Canonical's account, which publishes the official Ubuntu AMIs. */
const CANONICAL_OWNER_ID = "099720109477";

export interface AwsGitLabServerProps {
  /** Prefix of every resource name, e.g. 'staging-gitlab'. */
  readonly namePrefix: string;
  /** Exact Omnibus package version, e.g. '18.5.1-ce.0'. */
  readonly gitlabVersion: string;
  /** AWS region of the stack (the bootstrap calls Secrets Manager there). */
  readonly region: string;
  readonly vpcId: string;
  /** Public subnet of the instance; its availability zone also holds the data volume. */
  readonly subnetId: string;
  readonly instanceType: string;
  /**
   * The image, pinned in config: an AMI id, or the exact name of one Canonical Ubuntu LTS
   * image (looked up by name; a name matching two images fails the plan).
   */
  readonly ami: string;
  readonly rootVolumeGb: number;
  readonly dataVolumeGb: number;
  /** gitlab.rb settings; secrets in them must be boot secrets' files. */
  readonly omnibus: OmnibusSettings;
  /** Secrets Manager secrets fetched at boot; the instance may read exactly these. */
  readonly bootSecrets: readonly BootSecret[];
  /** Settings applied with `gitlab-rails runner` after reconfigure. */
  readonly applicationSettings: ApplicationSettings;
  /** Tags on every resource. */
  readonly tags: Readonly<Record<string, string>>;
  /** More files for the host (backup script and units, agent config). @default none */
  readonly hostFiles?: readonly WriteFile[];
  /** systemd units enabled once GitLab is configured. @default none */
  readonly hostUnits?: readonly string[];
  /** Where the bootstrap stores the automation token (its script among hostFiles). @default no token */
  readonly automationTokenStore?: string;
  /** Tag that selects the data volume for scheduled snapshots. @default no snapshots */
  readonly dataVolumeSnapshotTag?: { readonly key: string; readonly value: string };
  /**
   * Where HTTP and HTTPS may come from: a proxy's published ranges (Cloudflare's, when the
   * web records are proxied), in a security group of their own. @default anywhere
   */
  readonly webIngressSources?: readonly string[];
}

/** Inbound rules a security group takes per address family (AWS's default quota). */
export const SECURITY_GROUP_INBOUND_RULES = 60;

export class AwsGitLabServer extends Construct {
  /** The EC2 instance running Omnibus. */
  readonly instance: Instance;
  /** The encrypted EBS volume holding /var/opt/gitlab. */
  readonly dataVolume: EbsVolume;
  /** The Elastic IP every DNS record points at. */
  readonly elasticIp: Eip;
  readonly securityGroup: SecurityGroup;
  /** HTTP and HTTPS from the proxy's ranges only, when webIngressSources is set. */
  readonly webSecurityGroup?: SecurityGroup;
  /** The instance role; other constructs grant it access to their buckets and log groups. */
  readonly role: IamRole;
  /** The Host dimension of the BootstrapFailed metric its bootstrap sends. */
  readonly bootstrapMetricHost: string;

  constructor(scope: Construct, id: string, props: AwsGitLabServerProps) {
    super(scope, id);
    const tags = (name: string) => ({ ...props.tags, Name: `${props.namePrefix}-${name}` });
    this.dataVolume = this.createDataVolume(props, tags);
    const groups = this.serverSecurityGroups(props, tags);
    this.securityGroup = groups.server;
    this.webSecurityGroup = groups.web;
    const { role, sessionManager, profile } = instanceRole(this, { name: `${props.namePrefix}-server`, tags: tags("server") });
    this.role = role;
    const ownPolicies = [sessionManager, ...this.ownPolicies(props)];
    this.bootstrapMetricHost = `${props.namePrefix}-server`;
    this.instance = this.serverInstance(props, tags, profile, ownPolicies);
    this.elasticIp = this.attachDataAndAddress(tags);
  }

  /** The image changes only when config names another one: no most_recent, no wildcard. */
  private imageId(props: AwsGitLabServerProps): string {
    // Deprecated images are included: Canonical deprecates its images after a while, and a
    // pinned environment must still plan.
    return props.ami.startsWith("ami-")
      ? props.ami
      : new DataAwsAmi(this, "ubuntu", {
          owners: [CANONICAL_OWNER_ID],
          includeDeprecated: true,
          filter: [{ name: "name", values: [props.ami] }],
        }).id;
  }

  /** GitLab's data, apart from the instance: it outlives every replacement. */
  private createDataVolume(props: AwsGitLabServerProps, tags: (name: string) => Record<string, string>): EbsVolume {
    const subnet = new DataAwsSubnet(this, "subnet", { id: props.subnetId });

    return new EbsVolume(this, "data", {
      availabilityZone: subnet.availabilityZone,
      size: props.dataVolumeGb,
      type: "gp3",
      encrypted: true,
      finalSnapshot: true,
      tags: { ...tags("data"), ...(props.dataVolumeSnapshotTag ? { [props.dataVolumeSnapshotTag.key]: props.dataVolumeSnapshotTag.value } : {}) },
      lifecycle: { preventDestroy: true },
    });
  }

  /** Git SSH from anywhere; the web ports from anywhere, or from the proxy's ranges only (a group of their own). */
  private serverSecurityGroups(props: AwsGitLabServerProps, tags: (name: string) => Record<string, string>): { server: SecurityGroup; web?: SecurityGroup } {
    const group = new SecurityGroup(this, "sg", {
      name: `${props.namePrefix}-server`,
      description: "GitLab server: git over SSH, HTTP, HTTPS. Admins use SSM, not SSH.",
      vpcId: props.vpcId,
      tags: { ...tags("server"), [ROLE_TAG]: "gitlab-server" },
    });
    const web: [string, number][] = [
      ["http", 80],
      ["https", 443],
    ];
    const fromAnywhere: [string, number][] = [["git-ssh", props.omnibus.sshPort], ...(props.webIngressSources ? [] : web)];
    for (const [name, port] of fromAnywhere) {
      for (const [family, cidr] of [
        ["ipv4", "0.0.0.0/0"],
        ["ipv6", "::/0"],
      ] as const) {
        new VpcSecurityGroupIngressRule(this, `ingress-${name}-${family}`, {
          securityGroupId: group.id,
          description: name,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          ...(family === "ipv4" ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
        });
      }
    }
    const webGroup = props.webIngressSources ? this.webFrom(props, tags, web, props.webIngressSources) : undefined;
    new VpcSecurityGroupEgressRule(this, "egress-all", {
      securityGroupId: group.id,
      description: "packages, Secrets Manager, S3, SMTP, database",
      ipProtocol: "-1",
      cidrIpv4: "0.0.0.0/0",
    });

    return { server: group, ...(webGroup ? { web: webGroup } : {}) };
  }

  /** Its bootstrap reports failures and reads this environment's secrets, nothing more. */
  private ownPolicies(props: AwsGitLabServerProps): IamRolePolicy[] {
    const ownPolicies: IamRolePolicy[] = [];
    ownPolicies.push(
      new IamRolePolicy(this, "report-bootstrap", {
        role: this.role.id,
        name: "report-bootstrap",
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [BOOTSTRAP_METRICS_STATEMENT] }),
      }),
    );
    if (props.bootSecrets.length > 0) {
      ownPolicies.push(
        new IamRolePolicy(this, "read-boot-secrets", {
          role: this.role.id,
          name: "read-boot-secrets",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "ReadThisEnvironmentsSecrets",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue"],
                Resource: [...new Set(props.bootSecrets.map((s) => s.arn))].sort(),
              },
            ],
          }),
        }),
      );
    }
    return ownPolicies;
  }

  private serverInstance(
    props: AwsGitLabServerProps,
    tags: (name: string) => Record<string, string>,
    profile: IamInstanceProfile,
    ownPolicies: readonly IamRolePolicy[],
  ): Instance {
    const userData = renderGitlabServerUserData({
      gitlabVersion: props.gitlabVersion,
      metricHost: this.bootstrapMetricHost,
      region: props.region,
      dataVolumeId: this.dataVolume.id,
      omnibus: props.omnibus,
      secrets: props.bootSecrets,
      applicationSettings: props.applicationSettings,
      extraFiles: props.hostFiles ?? [],
      enableUnits: props.hostUnits ?? [],
      ...(props.automationTokenStore ? { automationTokenStore: props.automationTokenStore } : {}),
    });

    return new Instance(this, "instance", {
      ami: this.imageId(props),
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [this.securityGroup.id, ...(this.webSecurityGroup ? [this.webSecurityGroup.id] : [])],
      iamInstanceProfile: profile.name,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      rootBlockDevice: {
        volumeType: "gp3",
        volumeSize: props.rootVolumeGb,
        encrypted: true,
        deleteOnTermination: true,
        tags: tags("server-root"),
      },
      userDataBase64: gzippedUserData(userData, "GitLab server"),
      // A new version, config or aws.ami boots a fresh instance that mounts the same data volume.
      userDataReplaceOnChange: true,
      tags: tags("server"),
      // The bootstrap reads its secrets first thing: a role without its policy yet means
      // AccessDenied on the first create (more are added with bootsAfter).
      dependsOn: [...ownPolicies],
    });
  }

  /** The data volume and the Elastic IP follow the instance across replacements. */
  private attachDataAndAddress(tags: (name: string) => Record<string, string>): Eip {
    new VolumeAttachment(this, "data-attachment", {
      deviceName: "/dev/sdf",
      volumeId: this.dataVolume.id,
      instanceId: this.instance.id,
      // Stop the old instance before detaching so the filesystem is unmounted cleanly.
      stopInstanceBeforeDetaching: true,
    });

    const address = new Eip(this, "eip", { domain: "vpc", tags: tags("server"), lifecycle: { preventDestroy: true } });
    new EipAssociation(this, "eip-association", {
      allocationId: address.allocationId,
      instanceId: this.instance.id,
    });
    return address;
  }

  /**
   * Creates the instance only after these: the policies other constructs grant its role
   * (buckets, log groups, metrics) and the log groups its agent writes, so the first boot
   * does not race IAM or find its log groups missing.
   */
  bootsAfter(...dependencies: readonly ITerraformDependable[]): void {
    this.instance.dependsOn = [...(this.instance.dependsOn ?? []), ...dependencies.map(dependable)];
  }

  /**
   * HTTP and HTTPS from these ranges only, one rule per range and port, in a group of their
   * own: the proxy's ranges alone use half of a group's inbound rules. (A managed prefix list
   * would not save any: a rule that references one counts as its maximum entries.)
   */
  private webFrom(
    props: AwsGitLabServerProps,
    tags: (name: string) => Record<string, string>,
    ports: readonly [string, number][],
    sources: readonly string[],
  ): SecurityGroup {
    for (const [family, v6] of [
      ["IPv4", false],
      ["IPv6", true],
    ] as const) {
      const rules = sources.filter((c) => c.includes(":") === v6).length * ports.length;
      if (rules > SECURITY_GROUP_INBOUND_RULES) {
        throw new Error(
          `web ingress needs ${rules} inbound ${family} rules, but a security group takes at most ${SECURITY_GROUP_INBOUND_RULES}: split the ranges over more groups`,
        );
      }
    }
    const group = new SecurityGroup(this, "web-sg", {
      name: `${props.namePrefix}-web-cloudflare`,
      description: "GitLab server: HTTP and HTTPS from Cloudflare's proxy only",
      vpcId: props.vpcId,
      tags: { ...tags("web-cloudflare"), [ROLE_TAG]: "gitlab-server" },
    });
    for (const cidr of sources) {
      for (const [name, port] of ports) {
        // Named after the range, so a range Cloudflare adds or retires changes one rule each.
        new VpcSecurityGroupIngressRule(this, `web-${name}-${cidr.replace(/[^0-9a-f]+/gi, "-").replace(/-$/, "")}`, {
          securityGroupId: group.id,
          description: `${name} from Cloudflare`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          ...(cidr.includes(":") ? { cidrIpv6: cidr } : { cidrIpv4: cidr }),
        });
      }
    }
    return group;
  }
}
