// Backups on aws: a versioned S3 bucket (or a prefix of an existing one, as the reference AWS
// installation's nex-staging-backups/gitlab/) receiving GitLab's nightly archive and,
// separately, /etc/gitlab; daily DLM snapshots of the data volume; an alarm when no backup
// has succeeded for too long.
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DlmLifecyclePolicy } from "@cdktf/provider-aws/lib/dlm-lifecycle-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { DataAwsS3Bucket } from "@cdktf/provider-aws/lib/data-aws-s3-bucket";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Construct } from "constructs";
import { RoleGrants } from "../grants";
import { cronToOnCalendar, isOnCalendarForm } from "../../userdata/systemd-calendar";
import type { WriteFile } from "../../userdata/cloud-config";
import { BACKUP_TIMER, renderBackupUnits } from "../../userdata/gitlab-backup-units";
import { compactScript } from "../../userdata/host-scripts";
import { PrivateBucket } from "../private-bucket/aws";

export const BACKUP_METRIC = { namespace: "GitLab/Backups", name: "BackupSucceeded" } as const;
/** Where in the dedicated bucket GitLab's archives go (gitlab-backup create DIRECTORY=…); /etc/gitlab goes to config/. */
export const ARCHIVE_PREFIX = "gitlab";
const CONFIG_PREFIX = "config";
const SCRIPT_PATH = "/usr/local/sbin/gitlab-backup-s3";

export interface AwsBackupsProps {
  /** Prefix of resource names, e.g. 'staging-gitlab'. */
  readonly namePrefix: string;
  /** Environment name: the backup metric's dimension. */
  readonly environment: string;
  readonly region: string;
  /** Name of the dedicated backup bucket this creates (globally unique). */
  readonly bucketName: string;
  /**
   * Back up under this prefix of an existing bucket instead (its settings are its owner's):
   * archives under <prefix>/, /etc/gitlab under <prefix>/config/. @default a dedicated bucket
   */
  readonly existingBucket?: { readonly name: string; readonly prefix: string };
  /** Backup objects are expired after this many days. */
  readonly retentionDays: number;
  /** When the backup runs: cron in UTC, or a systemd OnCalendar expression. */
  readonly schedule: string;
  /** Daily snapshots of the data volume are kept this many days. */
  readonly snapshotRetentionDays: number;
  /** The tag that marks the data volume for snapshots. */
  readonly snapshotTarget: { readonly key: string; readonly value: string };
  /** Alarm when the last successful backup is older than this. */
  readonly maxAgeHours: number;
  /** SNS topics notified by the alarm. @default none */
  readonly alarmActions?: readonly string[];
}

export class AwsBackups extends Construct {
  /** The dedicated bucket, when this construct created one. */
  readonly bucket?: S3Bucket;
  /** Name of the bucket the backups go to. */
  readonly bucketName: string;
  private readonly bucketArn: string;
  /** The prefix the instance may write under, in an existing bucket. */
  private readonly prefix?: string;
  /** Files the GitLab host needs (script, service, timer) and the unit to enable. */
  readonly hostFiles: readonly WriteFile[];
  readonly hostUnits: readonly string[] = [BACKUP_TIMER];
  /** Where gitlab.rb's backup_upload_connection sends archives. */
  readonly upload: { readonly bucket: string; readonly region: string };
  readonly alarm: CloudwatchMetricAlarm;

  constructor(scope: Construct, id: string, props: AwsBackupsProps) {
    super(scope, id);
    if (props.existingBucket) {
      // Looked up, so a missing or misspelt bucket fails the plan, not the first backup.
      const existing = new DataAwsS3Bucket(this, "existing", { bucket: props.existingBucket.name });
      this.bucketName = props.existingBucket.name;
      this.bucketArn = existing.arn;
      this.prefix = props.existingBucket.prefix;
    } else {
      this.bucket = new PrivateBucket(this, "storage", {
        bucketName: props.bucketName,
        purpose: "backups",
        holdsData: true,
        expireAfterDays: props.retentionDays,
      }).bucket;
      this.bucketName = this.bucket.bucket;
      this.bucketArn = this.bucket.arn;
    }
    // The remote directory is the bucket alone: fog takes all of it as a bucket name, so a
    // "bucket/prefix" there is not a prefix. The script asks for the prefix (DIRECTORY=).
    this.upload = { bucket: this.bucketName, region: props.region };

    this.hostFiles = this.backupHostFiles(props);
    this.snapshotDaily(props);
    this.alarm = this.backupTooOld(props);
  }

  /** The backup script and its systemd timer, for the GitLab instance. */
  private backupHostFiles(props: AwsBackupsProps): WriteFile[] {
    const units = renderBackupUnits({
      // Cron from config, as on every platform; a deprecated OnCalendar expression as it is.
      onCalendar: isOnCalendarForm(props.schedule) ? props.schedule : cronToOnCalendar(props.schedule),
      bucket: this.bucketName,
      region: props.region,
      environment: props.environment,
      archivePrefix: this.prefix ?? ARCHIVE_PREFIX,
      configPrefix: this.prefix ? `${this.prefix}/${CONFIG_PREFIX}` : CONFIG_PREFIX,
      scriptPath: SCRIPT_PATH,
    });
    return [
      { path: SCRIPT_PATH, permissions: "0755", content: compactScript("gitlab-backup-s3.sh") },
      { path: "/etc/systemd/system/gitlab-backup.service", permissions: "0644", content: units.service },
      { path: `/etc/systemd/system/${BACKUP_TIMER}`, permissions: "0644", content: units.timer },
    ];
  }

  /** Daily EBS snapshots of the data volume (a second line beside the S3 archives). */
  private snapshotDaily(props: AwsBackupsProps): void {
    const dlmRole = new IamRole(this, "dlm-role", {
      name: `${props.namePrefix}-dlm`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    new IamRolePolicyAttachment(this, "dlm-policy", {
      role: dlmRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
    });
    new DlmLifecyclePolicy(this, "snapshots", {
      // DLM accepts only letters, digits, spaces, '-' and '_' in these two names.
      description: `Daily snapshots of the ${props.namePrefix} data volume`,
      executionRoleArn: dlmRole.arn,
      state: "ENABLED",
      policyDetails: {
        resourceTypes: ["VOLUME"],
        targetTags: { [props.snapshotTarget.key]: props.snapshotTarget.value },
        schedule: [
          {
            name: `daily kept ${props.snapshotRetentionDays} days`,
            createRule: { interval: 24, intervalUnit: "HOURS", times: ["03:00"] },
            retainRule: { interval: props.snapshotRetentionDays, intervalUnit: "DAYS" },
            copyTags: true,
          },
        ],
      },
    });
  }

  private backupTooOld(props: AwsBackupsProps): CloudwatchMetricAlarm {
    // One datapoint per successful backup; every hour without one counts as breaching, and
    // the alarm fires when all of the last maxAgeHours hours were.
    return new CloudwatchMetricAlarm(this, "backup-too-old", {
      alarmName: `${props.namePrefix}-backup-too-old`,
      alarmDescription: `No successful GitLab backup in ${props.maxAgeHours} hours (check journalctl -u gitlab-backup on the instance)`,
      namespace: BACKUP_METRIC.namespace,
      metricName: BACKUP_METRIC.name,
      dimensions: { Environment: props.environment },
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: props.maxAgeHours,
      datapointsToAlarm: props.maxAgeHours,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      alarmActions: [...(props.alarmActions ?? [])],
      okActions: [...(props.alarmActions ?? [])],
    });
  }

  /** Lets the GitLab instance write archives and the config copy, and report success. */
  grantBackupWriter(role: IamRole): IamRolePolicy {
    return this.backupWriters.grant(role);
  }

  private readonly backupWriters = new RoleGrants(this, "writer", () => ({
    name: "backups",
    document: {
      Version: "2012-10-17",
      Statement: [
        ...(this.prefix
          ? [
              // A shared bucket: this environment's prefix and nothing else of it.
              {
                Sid: "ListBackupPrefix",
                Effect: "Allow",
                Action: ["s3:ListBucket"],
                Resource: [this.bucketArn],
                Condition: { StringLike: { "s3:prefix": [`${this.prefix}/*`] } },
              },
              { Sid: "BackupBucketLocation", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [this.bucketArn] },
            ]
          : [{ Sid: "ListBackupBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [this.bucketArn] }]),
        {
          Sid: "WriteBackups",
          Effect: "Allow",
          Action: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
          Resource: [this.prefix ? `${this.bucketArn}/${this.prefix}/*` : `${this.bucketArn}/*`],
        },
        {
          Sid: "ReportBackupSuccess",
          Effect: "Allow",
          Action: ["cloudwatch:PutMetricData"],
          // PutMetricData does not support resource-level permissions; the namespace condition scopes it.
          Resource: ["*"],
          Condition: { StringEquals: { "cloudwatch:namespace": BACKUP_METRIC.namespace } },
        },
      ],
    },
  }));
}
