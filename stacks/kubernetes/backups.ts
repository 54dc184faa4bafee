// Backup props: the toolbox's CronJob to <prefix>-backups and the secrets export to its own bucket.
import type { KubernetesBackupsProps } from "../../constructs/backups/kubernetes";
import type { GitLabSecretsExportProps } from "../../constructs/backups/kubernetes-secrets-export";
import type { KubernetesEnvironment, StackVariables } from "./environment";
import { iamRoleOf, platformBucket, s3Connection } from "./object-storage";

export function backupsProps(env: KubernetesEnvironment, vars: StackVariables, namespace: KubernetesBackupsProps["namespace"]): KubernetesBackupsProps {
  const s3 = s3Connection(env, vars);
  const role = iamRoleOf(env);
  return {
    namespace,
    schedule: env.backups.schedule,
    bucket: platformBucket(env, "backups"),
    tmpBucket: platformBucket(env, "backups-tmp"),
    scratchGi: env.backups.scratchGb,
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    credentials: "iamRole" in s3.credentials ? { iamRoleArn: role! } : s3.credentials,
  };
}

export function secretsExportProps(env: KubernetesEnvironment, parts: Pick<GitLabSecretsExportProps, "server" | "backups">): GitLabSecretsExportProps {
  return { ...parts, secretsBucket: env.backups.secretsBucket, schedule: env.backups.schedule, environment: env.name };
}
