// GitLab's backups on the Docker host: too old, failed, or never recorded. The backup script
// writes its gauges into GitLab's node_exporter textfile collector.
import { humanizeDuration, type AlertRuleDefinition } from "../alert-rules";
import { gauge, NODE, NODE_INSTANCE } from "./inputs";

export const backupTooOld: AlertRuleDefinition = {
  alert: "GitLabBackupTooOld",
  build: (t) => {
    const backupMaxSeconds = t.backupMaxAgeHours * 3600;
    return {
      expr: `time() - max(gitlab_backup_last_success_timestamp_seconds{job="${NODE}"}) > ${backupMaxSeconds}`,
      for: "10m",
      severity: "critical",
      valueFormat: "humanizeDuration",
      summary: (c) => `The last successful GitLab backup finished ${c.value} ago`,
      description: (c) =>
        `The newest successful backup finished ${c.value} ago (threshold: ${t.backupMaxAgeHours} hours). ` +
        "Check the backup container's log and the NFS share; a restore now would lose everything since then.",
      tests: [
        // The test clock starts at Unix time 0, so a backup made before it has a negative timestamp.
        {
          scenario: `a backup ${t.backupMaxAgeHours + 1}h old`,
          series: [
            { series: 'gitlab_backup_last_success_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: gauge(-(backupMaxSeconds + 3600)) },
          ],
          checks: [{ at: "20m", firing: [{ labels: {}, value: humanizeDuration(backupMaxSeconds + 3600 + 20 * 60) }] }],
        },
        {
          scenario: `a backup ${t.backupMaxAgeHours}h minus 30m old ages past the threshold`,
          series: [
            { series: 'gitlab_backup_last_success_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: gauge(-(backupMaxSeconds - 1800)) },
          ],
          checks: [
            { at: "20m", firing: [] },
            { at: "35m", firing: [] },
            { at: "60m", firing: [{ labels: {}, value: humanizeDuration(backupMaxSeconds - 1800 + 3600) }] },
          ],
        },
      ],
    };
  },
};

// GitLabBackupTooOld only notices a failure once the last success has aged past its
// threshold (a day or more); the script's status gauge says so right after the run.
// It stays 0 until the next run, so `for` only needs to cover one scrape.
export const backupFailed: AlertRuleDefinition = {
  alert: "GitLabBackupFailed",
  build: () => ({
    expr: `gitlab_backup_last_status{job="${NODE}"} == 0`,
    for: "5m",
    severity: "critical",
    summary: (c) => `The last GitLab backup run on ${c.label("instance")} failed`,
    description: (c) =>
      `The last backup run reported by ${c.label("instance")} (job ${c.label("job")}) failed (threshold: gitlab_backup_last_status == 0 for 5m). ` +
      "The previous archives are kept, but nothing new reached the share: find the failed step in `docker logs gitlab-backup-scheduler`, " +
      "fix it, then run `docker exec gitlab-backup-scheduler gitlab-backup-to-nfs`.",
    tests: [
      {
        scenario: "the run at 10m fails",
        series: [{ series: 'gitlab_backup_last_status{job="gitlab-node",instance="gitlab:9100"}', values: "1x9 0x30" }],
        checks: [
          { at: "5m", firing: [] },
          { at: "12m", firing: [] },
          { at: "16m", firing: [{ labels: { job: NODE, instance: NODE_INSTANCE } }] },
        ],
      },
      {
        scenario: "a failed run at 10m is fixed by a successful run by hand at 13m",
        series: [{ series: 'gitlab_backup_last_status{job="gitlab-node",instance="gitlab:9100"}', values: "1x9 0x2 1x30" }],
        checks: [
          { at: "12m", firing: [] },
          { at: "20m", firing: [] },
        ],
      },
    ],
  }),
};

export const backupMissing: AlertRuleDefinition = {
  alert: "GitLabBackupMissing",
  build: () => ({
    expr: `absent(gitlab_backup_last_success_timestamp_seconds{job="${NODE}"})`,
    for: "30m",
    severity: "critical",
    summary: () => "No successful GitLab backup is recorded",
    description: () =>
      `gitlab_backup_last_success_timestamp_seconds has been missing from GitLab's node_exporter (job ${NODE}) for 30 minutes. ` +
      "No backup has succeeded since the metrics file was created, the file is gone, or the node_exporter target is down. " +
      "Run a backup now and check the backup container's log.",
    tests: [
      {
        scenario: "the metric disappears at 10m (stale after 5m more)",
        series: [{ series: 'gitlab_backup_last_success_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: gauge(0, 10) }],
        checks: [
          { at: "10m", firing: [] },
          { at: "40m", firing: [] },
          { at: "50m", firing: [{ labels: { job: NODE } }] },
        ],
      },
    ],
  }),
};
