// Backups by the chart's toolbox: its backup CronJob runs backup-utility, which tars the
// database, repositories and every bucket into <prefix>-backups. It uses the AWS CLI (GitLab's
// advice for S3 artifacts, chart issue 3338): credentials from the environment, or the IAM
// role of the toolbox's service account.
import type { HelmValues, SecretKeyRef } from "../values";

/** The backup CronJob the chart creates (<release>-toolbox-backup with release 'gitlab'). */
export const BACKUP_CRONJOB = "gitlab-toolbox-backup";

export interface BackupChartSettings {
  /** Cron schedule, in UTC. */
  readonly schedule: string;
  readonly bucket: string;
  readonly tmpBucket: string;
  /** Size of the job's scratch volume (a generic ephemeral volume: gone with the job). */
  readonly scratchGi: number;
  readonly region: string;
  /** An S3-compatible service's URL; AWS S3 when absent. */
  readonly endpoint?: string;
  /** Access keys from a Secret; the service account's IAM role when absent. */
  readonly keys?: { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
}

const secretEnv = (ref: SecretKeyRef) => ({ secretKeyRef: { name: ref.secret, key: ref.key } });

export function backupValues(b: BackupChartSettings): HelmValues {
  const args = ["--s3tool", "awscli", ...(b.endpoint ? ["--aws-s3-endpoint-url", b.endpoint] : [])];
  return {
    global: { appConfig: { backups: { bucket: b.bucket, tmpBucket: b.tmpBucket } } },
    gitlab: {
      toolbox: {
        enabled: true,
        extraEnv: {
          AWS_DEFAULT_REGION: b.region,
          // S3-compatible stores often lack the checksums recent AWS CLIs send by default (chart backup docs).
          ...(b.endpoint ? { AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED" } : {}),
        },
        ...(b.keys ? { extraEnvFrom: { AWS_ACCESS_KEY_ID: secretEnv(b.keys.accessKeyId), AWS_SECRET_ACCESS_KEY: secretEnv(b.keys.secretAccessKey) } } : {}),
        backups: {
          cron: {
            enabled: true,
            schedule: b.schedule,
            timeZone: "Etc/UTC",
            extraArgs: args.join(" "),
            persistence: { enabled: true, useGenericEphemeralVolume: true, size: `${b.scratchGi}Gi` },
          },
        },
      },
    },
  };
}
