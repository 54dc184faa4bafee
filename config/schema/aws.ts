// The aws platform: GitLab on EC2, S3, CloudWatch (the runners: aws-runners.ts).
import { z } from "zod";
import { awsRegion, backupSchedule, cidr, emailAddress, instanceType } from "./primitives";
import { secretsManagerRef } from "./secrets";
import { retentionDays } from "./shared";

/** The command README and docs/operations.md give for finding the newest Ubuntu 24.04 image. */
const FIND_UBUNTU_AMI =
  "aws ec2 describe-images --region <region> --owners 099720109477 --filters 'Name=name,Values=ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*' --query 'sort_by(Images, &CreationDate)[-1].[ImageId, Name]' --output text";

/** Canonical's names for its Ubuntu LTS amd64 server images, dated (no wildcard: one image). */
export const UBUNTU_IMAGE_NAME = /^ubuntu\/images\/hvm-ssd(-gp3)?\/ubuntu-(jammy-22\.04|noble-24\.04)-amd64-server-\d{8}(\.\d+)?$/;
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;

const gitlabAmi = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? `is required: pin the image of the GitLab instance, so that replacing it (a GitLab upgrade) never boots a newer image by itself; find the current one with \`${FIND_UBUNTU_AMI}\` (README, Upgrades and data safety)`
        : undefined,
  })
  .refine(
    (v) => AMI_ID.test(v) || UBUNTU_IMAGE_NAME.test(v),
    "must be an AMI id like 'ami-0123456789abcdef0' or an exact dated Canonical Ubuntu LTS image name like 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423' (no wildcard: it must name one image)",
  );

const subnetId = z.string().regex(/^subnet-[a-f0-9]{8,17}$/, "must be a subnet id like 'subnet-0123456789abcdef0'");

export const awsSection = z
  .strictObject({
    region: awsRegion.describe("AWS region, e.g. 'eu-west-3'."),
    vpcId: z
      .string()
      .regex(/^vpc-[a-f0-9]{8,17}$/, "must be a VPC id like 'vpc-0123456789abcdef0'")
      .describe("Existing VPC."),
    vpcCidr: cidr.describe("The VPC's CIDR; GitLab's metrics endpoints are open to it."),
    publicSubnetId: subnetId.describe("Public subnet for the GitLab instance (it gets an Elastic IP)."),
    privateSubnetIds: z.array(subnetId).min(1).describe("Private subnets (with NAT) for the runners."),
    instanceType: instanceType.default("t3a.xlarge").describe("GitLab instance type. @default 't3a.xlarge'"),
    rootVolumeGb: z.int().min(20).max(1024).default(30).describe("Root volume size. @default 30"),
    dataVolumeGb: z.int().min(20).max(16384).default(200).describe("Data volume (/var/opt/gitlab) size. @default 200"),
    bucketPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{2,40}[a-z0-9]$/, "must be 4-42 lower-case letters, digits or '-' (S3 bucket names are global)")
      .optional()
      .describe("Prefix of the S3 bucket names (<prefix>-registry, -backups, -runner-cache); make it globally unique. @default '<environment>-gitlab'"),
    ami: gitlabAmi.describe(
      "Image of the GitLab instance, pinned: an AMI id ('ami-…', regional) or an exact dated Canonical Ubuntu LTS (22.04, 24.04) amd64 server image name, which must match exactly one image. Changing it replaces the instance (the data volume stays). Find the current one: " +
        FIND_UBUNTU_AMI,
    ),
    tags: z
      .record(z.string().regex(/^[A-Za-z0-9 _.:/=+@-]{1,128}$/), z.string().max(256))
      .default({})
      .describe("Extra tags on every resource."),
  })
  .describe("Where on AWS the environment lives.");

/** The only retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days. */
export const CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
const logRetentionDays = z.literal(CLOUDWATCH_RETENTION_DAYS);

const existingBackupBucket = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
      .describe("The bucket, in the environment's region."),
    prefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/, "must be a key prefix like 'gitlab' or 'teams/gitlab' (no leading or trailing '/')")
      .default("gitlab")
      .describe("Archives go under <prefix>/, the gitlab.rb/secrets copy under <prefix>/config/. @default 'gitlab'"),
  })
  .describe(
    "Back up into this existing bucket under a prefix (e.g. a team's existing backups bucket, under gitlab/) instead of a dedicated one. Its versioning, encryption, public access and lifecycle are its owner's: retentionDays does not apply. The instance may list, read and write under the prefix only.",
  );

export const awsBackupsSection = z
  .strictObject({
    existingBucket: existingBackupBucket.optional(),
    schedule: backupSchedule
      .default("0 2 * * *")
      .describe(
        "When `gitlab-backup create` runs: cron in UTC, as on the other platforms (converted for the instance's systemd timer). A systemd OnCalendar expression is still read, deprecated. @default '0 2 * * *'",
      ),
    retentionDays: retentionDays.default(30).describe("Backup objects in the dedicated bucket are expired after this (not with existingBucket). @default 30"),
    snapshotRetentionDays: retentionDays.default(14).describe("Daily EBS snapshots of the data volume kept. @default 14"),
    maxAgeHours: z
      .int()
      .min(1)
      // One-hour periods: CloudWatch refuses an alarm that looks back more than 7 days.
      .max(24 * 7)
      .default(26)
      .describe("Alarm when the newest backup is older (at most 168: CloudWatch alarms look back 7 days at most). @default 26"),
  })
  .describe("Backups to S3 and EBS snapshots of the data volume.");

export const awsObservabilitySection = z
  .strictObject({
    appLogRetentionDays: logRetentionDays
      .default(30)
      .describe("GitLab and runner logs, in days: one of CloudWatch's periods (1, 3, 5, 7, 14, 30, 60, 90, …, 3653). @default 30"),
    systemLogRetentionDays: logRetentionDays.default(14).describe("System logs, in days: one of CloudWatch's periods. @default 14"),
    alarmEmail: emailAddress.optional().describe("Subscribe this address to the alarms' SNS topic."),
    diskUsageAlarmPercent: z.int().min(50).max(99).default(85).describe("@default 85"),
  })
  .describe("CloudWatch logs and alarms.");

export const awsTlsSection = z
  .strictObject({
    certificate: secretsManagerRef.describe("PEM certificate nginx serves: a Cloudflare Origin CA certificate for the domain."),
    privateKey: secretsManagerRef.describe("Its PEM private key."),
    strictSslMode: z
      .boolean()
      .default(true)
      .describe(
        "Set the zone's SSL mode to Full (strict). A zone has one SSL mode: let one environment per zone own it and deploy it first; the others (false) check at plan that the zone is Full or Full (strict). @default true",
      ),
  })
  .describe("TLS between Cloudflare and the instance: nginx serves an Origin CA certificate fetched at boot.");
