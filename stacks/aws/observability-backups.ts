// Observability and backups props on the aws platform: CloudWatch log groups and alarms,
// backups to S3 with data-volume snapshots, alarms sent where observability sends them.
import type { AwsBackupsProps } from "../../constructs/backups/aws";
import type { AwsObservability, AwsObservabilityProps } from "../../constructs/observability/aws";
import type { AwsEnvironment } from "../aws-stack";
import type { AwsNames } from "./naming";

export function observabilityProps(env: AwsEnvironment, names: AwsNames): AwsObservabilityProps {
  const o = env.observability;
  return {
    namePrefix: names.namePrefix,
    environment: env.name,
    appLogRetentionDays: o.appLogRetentionDays,
    systemLogRetentionDays: o.systemLogRetentionDays,
    diskUsageAlarmPercent: o.diskUsageAlarmPercent,
    ...(o.alarmEmail ? { alarmEmail: o.alarmEmail } : {}),
  };
}

export function backupsProps(env: AwsEnvironment, names: AwsNames, observability: AwsObservability): AwsBackupsProps {
  const b = env.backups;
  return {
    namePrefix: names.namePrefix,
    environment: env.name,
    region: env.aws.region,
    bucketName: `${names.bucketPrefix}-backups`,
    ...(b.existingBucket ? { existingBucket: b.existingBucket } : {}),
    retentionDays: b.retentionDays,
    schedule: b.schedule,
    snapshotRetentionDays: b.snapshotRetentionDays,
    snapshotTarget: names.snapshotTag,
    maxAgeHours: b.maxAgeHours,
    alarmActions: observability.alarmActions,
  };
}
