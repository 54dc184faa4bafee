// Backups on the kubernetes platform: the chart's toolbox backup CronJob (database,
// repositories and every bucket into <prefix>-backups), configured through its part of the
// GitLab chart's values; its S3 credentials in a Secret (or the IAM role of the service
// accounts). The secrets a restore also needs are exported by GitLabSecretsExport.
import { Construct } from "constructs";
import { backupValues } from "../../userdata/helm/gitlab/backups";
import type { HelmValues, SecretKeyRef } from "../../userdata/helm/values";
import { PlatformSecret, type PlatformNamespace } from "../kubernetes-conventions";

/** Where backups go and how the jobs writing them authenticate. */
export interface BackupStorage {
  readonly region: string;
  /** An S3-compatible service's URL; AWS S3 when absent. */
  readonly endpoint?: string;
  readonly bucket: string;
  /** Access keys in a Secret; absent with an IAM role. */
  readonly keys?: { readonly accessKeyId: SecretKeyRef; readonly secretAccessKey: SecretKeyRef };
  /** The IAM role (EKS IRSA) the jobs' service accounts carry. */
  readonly iamRoleArn?: string;
}

export interface KubernetesBackupsProps {
  readonly namespace: PlatformNamespace;
  /** Cron schedule, in UTC. */
  readonly schedule: string;
  readonly bucket: string;
  readonly tmpBucket: string;
  readonly scratchGi: number;
  readonly region: string;
  readonly endpoint?: string;
  /** Terraform references to the access key pair, or the IAM role. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | { readonly iamRoleArn: string };
}

export class KubernetesBackups extends Construct {
  /** Its part of the GitLab chart's values (the toolbox's backup CronJob). */
  readonly chartValues: HelmValues;
  readonly storage: BackupStorage;
  readonly credentials?: PlatformSecret;

  constructor(scope: Construct, id: string, props: KubernetesBackupsProps) {
    super(scope, id);
    const c = props.credentials;
    if ("accessKeyId" in c) {
      this.credentials = new PlatformSecret(this, "credentials", {
        namespace: props.namespace,
        name: "gitlab-backup-s3",
        data: { "access-key-id": c.accessKeyId, "secret-access-key": c.secretAccessKey },
      });
    }
    const keys = this.credentials
      ? { accessKeyId: this.credentials.ref("access-key-id"), secretAccessKey: this.credentials.ref("secret-access-key") }
      : undefined;
    this.storage = {
      region: props.region,
      bucket: props.bucket,
      ...(props.endpoint ? { endpoint: props.endpoint } : {}),
      ...(keys ? { keys } : {}),
      ...("iamRoleArn" in c ? { iamRoleArn: c.iamRoleArn } : {}),
    };
    this.chartValues = backupValues({
      schedule: props.schedule,
      bucket: props.bucket,
      tmpBucket: props.tmpBucket,
      scratchGi: props.scratchGi,
      region: props.region,
      ...(props.endpoint ? { endpoint: props.endpoint } : {}),
      ...(keys ? { keys } : {}),
    });
  }
}
