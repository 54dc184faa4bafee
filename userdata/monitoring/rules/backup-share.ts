// The backups' NFS share on the Docker host, which the backup scheduler checks every 5 minutes
// (gitlab-backup-share-check.sh): gone, or no longer checked at all.
import type { AlertRuleDefinition } from "../alert-rules";
import { gauge, NODE, NODE_INSTANCE } from "./inputs";

/** Three missed share checks (they run every 5 minutes). */
const SHARE_CHECK_STALE_SECONDS = 900;

// The backup scheduler checks its NFS share every 5 minutes (gitlab-backup-share-check.sh):
// a share gone (NAS down, export changed, mount hung) alerts now, not when the next
// backup fails and the one after is overdue.
export const backupShareUnavailable: AlertRuleDefinition = {
  alert: "GitLabBackupShareUnavailable",
  build: () => ({
    expr: `gitlab_backup_share_up{job="${NODE}"} == 0`,
    for: "10m",
    severity: "critical",
    summary: () => "The backups' NFS share is unavailable",
    description: (c) =>
      `The backup scheduler cannot write to its NFS share, as reported by ${c.label("instance")} (threshold: gitlab_backup_share_up == 0 for 10m). ` +
      "The next backup will fail: check the NAS, the export and `docker logs gitlab-backup-scheduler`.",
    tests: [
      {
        scenario: "the share goes at 10m",
        series: [{ series: 'gitlab_backup_share_up{job="gitlab-node",instance="gitlab:9100"}', values: "1x9 0x30" }],
        checks: [
          { at: "15m", firing: [] },
          { at: "25m", firing: [{ labels: { job: NODE, instance: NODE_INSTANCE } }] },
        ],
      },
      {
        scenario: "the share is back at 15m",
        series: [{ series: 'gitlab_backup_share_up{job="gitlab-node",instance="gitlab:9100"}', values: "1x9 0x5 1x30" }],
        checks: [{ at: "25m", firing: [] }],
      },
    ],
  }),
};

// Nobody checks the share when the scheduler is not running, e.g. because the NAS was
// down as the host booted and Docker could not mount the share to start it.
export const backupShareCheckStale: AlertRuleDefinition = {
  alert: "GitLabBackupShareCheckStale",
  build: () => ({
    expr:
      `time() - max(gitlab_backup_share_check_timestamp_seconds{job="${NODE}"}) > ${SHARE_CHECK_STALE_SECONDS}` +
      ` or absent(gitlab_backup_share_check_timestamp_seconds{job="${NODE}"})`,
    for: "5m",
    severity: "critical",
    summary: () => "The backup scheduler has stopped checking its NFS share",
    description: () =>
      `The NFS share has not been checked for over 15 minutes: the backup scheduler is not running (no backup will run either). ` +
      "If the NAS was unreachable when the host booted, Docker could not mount the share and did not start the scheduler: " +
      "bring the NAS back, then `docker start gitlab-backup-scheduler`.",
    tests: [
      // The test clock starts at Unix time 0: a check before it has a negative timestamp.
      {
        scenario: "the last check, before a reboot, is 20 minutes old and no new one comes",
        series: [{ series: 'gitlab_backup_share_check_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: gauge(-1200, 30) }],
        checks: [{ at: "10m", firing: [{ labels: {} }] }],
      },
      {
        scenario: "checked all along (each scrape sees the latest check)",
        series: [{ series: 'gitlab_backup_share_check_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: "0+60x200" }],
        checks: [
          { at: "12m", firing: [] },
          { at: "3h", firing: [] },
        ],
      },
      {
        scenario: "never checked (the scheduler never started)",
        series: [{ series: 'up{job="gitlab-node",instance="gitlab:9100"}', values: "1x60" }],
        checks: [
          { at: "3m", firing: [] },
          { at: "10m", firing: [{ labels: { job: NODE } }] },
        ],
      },
    ],
  }),
};
