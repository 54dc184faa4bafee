// Scheduled GitLab backups on the docker platform (a homelab with a NAS): a small scheduler container runs
// `gitlab-backup create` in the GitLab container, copies the archive to an NFS share (a NAS)
// and, separately, gitlab.rb and gitlab-secrets.json, prunes old archives there and leaves
// Prometheus textfile metrics for GitLab's node_exporter.
//
// Only the scheduler mounts the NFS share: GitLab keeps running when the NAS is down (the
// backup then fails visibly and the missing-backup alert fires).
//
// Security: the scheduler has the host's Docker socket, which makes it root-equivalent on
// the host (it can start any container with any mount). It needs it to `docker exec` into
// GitLab. It publishes no ports and runs nothing but busybox crond and the backup script.
import { createHash } from "node:crypto";
import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Network } from "@cdktf/provider-docker/lib/network";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Construct } from "constructs";
import { renderCrontab, type CronEntry } from "../../userdata/crontab";
import { hostScript } from "../../userdata/host-scripts";
import type { GitLabContainerRef } from "../gitlab-server/docker";
import { KEEP_LABEL, PlatformContainer, SCHEDULER_HEALTHCHECK } from "../docker-conventions";

/** Where the scheduler container sees what it works on. */
export const BACKUP_CONTAINER_PATHS = {
  /** GitLab's backup directory (read-only): where `gitlab-backup create` writes archives. */
  backupSource: "/gitlab-backups",
  /** GitLab's /etc/gitlab (read-only): gitlab.rb and gitlab-secrets.json. */
  gitlabConfig: "/gitlab-config",
  /** The NFS share: archives in gitlab/, config tarballs in config/. */
  nfs: "/nfs",
  /** node_exporter's textfile collector directory (read-write). */
  textfile: "/textfile",
  /** The backup script. */
  script: "/usr/local/bin/gitlab-backup-to-nfs",
  /** The share check (every 5 minutes: is the NFS share mounted and writable?). */
  shareCheck: "/usr/local/bin/gitlab-backup-share-check",
  /** busybox crond's crontab for root. */
  crontab: "/etc/crontabs/root",
} as const;

const DOCKER_SOCKET = "/var/run/docker.sock";

export interface DockerBackupsProps {
  /** The platform's private network (the scheduler joins it by convention; it listens on nothing). */
  readonly network: Network;
  /** Pinned image with the Docker CLI and busybox crond, e.g. 'docker:28.5.1-cli'. */
  readonly image: string;
  /** When the backup runs: five-field cron expression, UTC. */
  readonly schedule: string;
  /** NFS share the archives and the config copy go to (NFS v4.1). */
  readonly nfs: { readonly server: string; readonly export: string };
  /** Archives on the share older than this many days are deleted. */
  readonly retentionDays: number;
  /** The GitLab container to `docker exec` into, whose backup and config directories it reads. */
  readonly gitlab: GitLabContainerRef;
  /** More jobs for GitLab the scheduler runs (the automation token's renewal). @default none */
  readonly extraJobs?: readonly CronEntry[];
}

/**
 * What the stack passes to gitlab.rb's backup_keep_time: archives live on the NAS, so GitLab
 * keeps local ones for a day only (enough to retry a failed copy).
 */
export const LOCAL_BACKUP_KEEP_SECONDS = 86400;

export class DockerBackups extends Construct {
  /** The scheduler container (busybox crond running the backup script). */
  readonly container: Container;
  /** Its name: `docker logs gitlab-backup-scheduler`, `docker exec gitlab-backup-scheduler gitlab-backup-to-nfs`. */
  readonly containerName = "gitlab-backup-scheduler";
  /** Docker volume that mounts the NFS share; only the scheduler uses it. */
  readonly nfsVolume: Volume;
  /** Host path of the Prometheus textfile the script writes (gitlab_backup_* metrics). */
  readonly metricsFile: string;

  constructor(scope: Construct, id: string, props: DockerBackupsProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) {
      throw new Error(`backups: retentionDays must be a whole number of days, at least 1 (got ${props.retentionDays})`);
    }
    const textfileDir = `${props.gitlab.hostDirs.data}/node-exporter/textfile_collector`;
    this.metricsFile = `${textfileDir}/gitlab_backup.prom`;
    this.nfsVolume = this.nfsShare(props.nfs);
    this.container = this.scheduler(props, textfileDir);
  }

  private nfsShare(nfs: DockerBackupsProps["nfs"]): Volume {
    const mountOptions = `addr=${nfs.server},nfsvers=4.1,rw,soft,timeo=600`;
    const device = `:${nfs.export}`;
    // The options are part of the name: a new NAS or export makes a new volume (and so a new
    // container using it) instead of an in-place replacement Docker refuses while in use.
    const optionsHash = createHash("sha256").update(`${mountOptions}\n${device}`).digest("hex").slice(0, 8);
    return new Volume(this, "nfs", {
      name: `gitlab-backups-nfs-${optionsHash}`,
      driver: "local",
      driverOpts: { type: "nfs", o: mountOptions, device },
      labels: [{ label: KEEP_LABEL, value: "true" }],
    });
  }

  /** busybox crond running the backup on its schedule and the share check every 5 minutes. */
  private scheduler(props: DockerBackupsProps, textfileDir: string): Container {
    const gitlabDirs = props.gitlab.hostDirs;
    const paths = BACKUP_CONTAINER_PATHS;
    return new PlatformContainer(this, "scheduler", {
      name: this.containerName,
      image: props.image,
      network: props.network,
      // A run stopped halfway removes its partial copy and records the failure (its TERM trap).
      stopGraceSeconds: 30,
      files: [
        {
          path: paths.crontab,
          content: renderCrontab(
            [
              { schedule: props.schedule, command: paths.script },
              // A missing share alerts within minutes, not when the next backup is overdue.
              { schedule: "*/5 * * * *", command: paths.shareCheck },
              ...(props.extraJobs ?? []),
            ],
            "GitLab backup to NFS",
          ),
          permissions: "0600",
        },
        { path: paths.script, content: hostScript("gitlab-backup-to-nfs.sh"), executable: true },
        { path: paths.shareCheck, content: hostScript("gitlab-backup-share-check.sh"), executable: true },
      ],
      container: {
        // crond in the foreground: its log and the jobs' output go to the container's log.
        entrypoint: ["crond", "-f", "-d", "8", "-c", "/etc/crontabs"],
        // A real PID 1 reaps what the jobs leave behind (docker exec clients).
        init: true,
        healthcheck: SCHEDULER_HEALTHCHECK,
        env: [
          "TZ=UTC",
          `DOCKER_HOST=unix://${DOCKER_SOCKET}`,
          `GITLAB_CONTAINER=${props.gitlab.containerName}`,
          `RETENTION_DAYS=${props.retentionDays}`,
          `BACKUP_SOURCE_DIR=${paths.backupSource}`,
          `GITLAB_CONFIG_DIR=${paths.gitlabConfig}`,
          `NFS_DIR=${paths.nfs}`,
          `TEXTFILE_DIR=${paths.textfile}`,
        ],
        volumes: [
          // Root-equivalent on the host: needed for `docker exec gitlab gitlab-backup create`.
          { hostPath: DOCKER_SOCKET, containerPath: DOCKER_SOCKET },
          { hostPath: `${gitlabDirs.data}/backups`, containerPath: paths.backupSource, readOnly: true },
          { hostPath: gitlabDirs.config, containerPath: paths.gitlabConfig, readOnly: true },
          { hostPath: textfileDir, containerPath: paths.textfile },
          { volumeName: this.nfsVolume.name, containerPath: paths.nfs },
        ],
      },
    }).container;
  }
}
