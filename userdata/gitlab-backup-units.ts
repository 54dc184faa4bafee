// The systemd service and timer that run the GitLab backup on the EC2 host.
import { renderService, renderTimer } from "./systemd";

export interface BackupUnitsProps {
  /** systemd OnCalendar expression; evaluated in UTC. */
  readonly onCalendar: string;
  readonly bucket: string;
  readonly region: string;
  readonly environment: string;
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
        AWS_CLI: "/snap/bin/aws",
      },
      timeoutStartSec: "infinity",
    }),
    timer: renderTimer({ description: "Nightly GitLab backup", onCalendar, persistent: true, randomizedDelaySec: 300 }),
  };
}
