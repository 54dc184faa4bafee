// The systemd service and timer that run the GitLab backup on the EC2 host.
import { renderService, renderTimer, SERVICE_PATH_WITH_AWS_CLI } from "./systemd";

export interface BackupUnitsProps {
  /** systemd OnCalendar expression; evaluated in UTC. */
  readonly onCalendar: string;
  readonly bucket: string;
  readonly region: string;
  readonly environment: string;
  /** Folder of the bucket the archives go to. */
  readonly archivePrefix: string;
  /** Folder of the bucket the gitlab.rb/secrets archive goes to. */
  readonly configPrefix: string;
  /** Where the backup script is installed. */
  readonly scriptPath: string;
}

export const BACKUP_TIMER = "gitlab-backup.timer";

export function renderBackupUnits(p: BackupUnitsProps): { service: string; timer: string } {
  const onCalendar = /\b(UTC|[A-Z][a-z]+\/[A-Za-z_]+)$/.test(p.onCalendar) ? p.onCalendar : `${p.onCalendar} UTC`;
  return {
    service: renderService({
      description: "GitLab backup to S3 (archive, then /etc/gitlab)",
      type: "oneshot",
      execStart: [p.scriptPath],
      after: ["network-online.target", "gitlab-runsvdir.service"],
      wants: ["network-online.target"],
      environment: {
        BACKUP_BUCKET: p.bucket,
        AWS_REGION: p.region,
        ENVIRONMENT: p.environment,
        ARCHIVE_PREFIX: p.archivePrefix,
        CONFIG_PREFIX: p.configPrefix,
        PATH: SERVICE_PATH_WITH_AWS_CLI,
      },
      timeoutStartSec: "infinity",
    }),
    timer: renderTimer({ description: "Nightly GitLab backup", onCalendar, persistent: true, randomizedDelaySec: 300 }),
  };
}
