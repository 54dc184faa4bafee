// The kubernetes platform's copy of what the docker and aws platforms keep beside their
// backups (gitlab-secrets.json, the SSH host keys): a CronJob in the toolbox image mounts the
// chart's Rails secret and GitLab Shell's host keys read-only and uploads them, archived, to
// a bucket of their own (userdata/scripts/gitlab-secrets-export.sh). The chart generates
// both Secrets at install; losing them with the namespace would make every backup useless.
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { CronJobV1 } from "@cdktf/provider-kubernetes/lib/cron-job-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Construct } from "constructs";
import { hostScript } from "../../userdata/host-scripts";
import type { KubernetesGitLabServer } from "../gitlab-server/kubernetes";
import { MANAGED_BY } from "../kubernetes-conventions";
import { terraformLiteral } from "../terraform-literal";
import type { KubernetesBackups } from "./kubernetes";

export const SECRETS_EXPORT_CRONJOB = "gitlab-secrets-export";
const SCRIPT = "gitlab-secrets-export.sh";
// The root filesystem is read-only: the archive is put together on an emptyDir (TMPDIR).
const MOUNTS = { rails: "/secrets/rails", ssh: "/secrets/ssh", scripts: "/scripts", scratch: "/scratch" } as const;

export interface GitLabSecretsExportProps {
  readonly server: KubernetesGitLabServer;
  readonly backups: KubernetesBackups;
  readonly secretsBucket: string;
  /** Cron schedule, in UTC. */
  readonly schedule: string;
  /** Names the archives (gitlab-secrets-<environment>-<time>.tar.gz). */
  readonly environment: string;
}

export class GitLabSecretsExport extends Construct {
  readonly cronJob: CronJobV1;
  readonly name = SECRETS_EXPORT_CRONJOB;

  constructor(scope: Construct, id: string, props: GitLabSecretsExportProps) {
    super(scope, id);
    const namespace = props.server.namespace.name;
    const storage = props.backups.storage;
    const metadata = { name: SECRETS_EXPORT_CRONJOB, namespace, labels: { ...MANAGED_BY } };
    const script = new ConfigMapV1(this, "script", { metadata, data: { [SCRIPT]: terraformLiteral(hostScript(SCRIPT)) } });
    const account = new ServiceAccountV1(this, "service-account", {
      metadata: { ...metadata, annotations: storage.iamRoleArn ? { "eks.amazonaws.com/role-arn": storage.iamRoleArn } : {} },
      automountServiceAccountToken: false,
    });
    this.cronJob = new CronJobV1(this, "cronjob", {
      metadata,
      spec: {
        schedule: props.schedule,
        timezone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          metadata: { labels: { ...MANAGED_BY } },
          spec: {
            backoffLimit: 2,
            template: {
              metadata: { labels: { ...MANAGED_BY } },
              spec: exportPod({
                serviceAccount: account.metadata.name,
                script: script.metadata.name,
                image: props.server.toolboxImage,
                server: props.server,
                env: exportEnv(props),
              }),
            },
          },
        },
      },
      // The chart creates both Secrets when it is installed.
      dependsOn: [props.server.release.release, script, account],
    });
  }
}

/** The export container's environment: where to upload, what is mounted where, the store's credentials. */
function exportEnv(props: GitLabSecretsExportProps) {
  const storage = props.backups.storage;
  const secretEnv = (name: string, ref: { secret: string; key: string }) => ({ name, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } } });
  return [
    { name: "SECRETS_BUCKET", value: props.secretsBucket },
    { name: "ENVIRONMENT", value: props.environment },
    { name: "RAILS_SECRET_DIR", value: MOUNTS.rails },
    { name: "SHELL_HOST_KEYS_DIR", value: MOUNTS.ssh },
    { name: "TMPDIR", value: MOUNTS.scratch },
    { name: "AWS_DEFAULT_REGION", value: storage.region },
    ...(storage.endpoint
      ? [
          { name: "S3_ENDPOINT", value: storage.endpoint },
          { name: "AWS_REQUEST_CHECKSUM_CALCULATION", value: "WHEN_REQUIRED" },
        ]
      : []),
    ...(storage.keys ? [secretEnv("AWS_ACCESS_KEY_ID", storage.keys.accessKeyId), secretEnv("AWS_SECRET_ACCESS_KEY", storage.keys.secretAccessKey)] : []),
  ];
}

/** The job's pod: the toolbox image as its git user, the two Secrets and the script read-only, scratch space. */
function exportPod(p: { serviceAccount: string; script: string; image: string; server: KubernetesGitLabServer; env: ReturnType<typeof exportEnv> }) {
  return {
    serviceAccountName: p.serviceAccount,
    restartPolicy: "Never",
    // fsGroup makes the mounted Secrets' files the git user's group's.
    securityContext: { runAsUser: "1000", runAsGroup: "1000", fsGroup: "1000", runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    container: [
      {
        name: "export",
        image: p.image,
        command: ["/bin/bash", `${MOUNTS.scripts}/${SCRIPT}`],
        env: p.env,
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ["ALL"] } },
        volumeMount: [
          { name: "rails-secret", mountPath: MOUNTS.rails, readOnly: true },
          { name: "shell-host-keys", mountPath: MOUNTS.ssh, readOnly: true },
          { name: "script", mountPath: MOUNTS.scripts, readOnly: true },
          { name: "scratch", mountPath: MOUNTS.scratch },
        ],
      },
    ],
    volume: [
      { name: "rails-secret", secret: { secretName: p.server.railsSecret, defaultMode: "0440" } },
      { name: "shell-host-keys", secret: { secretName: p.server.shellHostKeysSecret, defaultMode: "0440" } },
      { name: "script", configMap: { name: p.script, defaultMode: "0555" } },
      { name: "scratch", emptyDir: {} },
    ],
  };
}
