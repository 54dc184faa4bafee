// GitLab's alert rules and their promtool unit tests, rendered from one typed model. Each
// alert carries its own tests: input series built from the thresholds, evaluation times, and
// the alerts expected then (none, or the exact labels and annotations). `promtool test rules`
// runs them, so a wrong threshold, operator or selector fails the build, not the pager.
import { stringify } from "yaml";
import { GITLAB_EXPORTERS, RUNNER_JOB } from "./prometheus-config";

export interface AlertThresholds {
  /** Jobs waiting in all Sidekiq queues together. @default 1000 */
  readonly sidekiqQueueBacklog: number;
  /** Share of Sidekiq jobs that fail, over 15 minutes. @default 0.05 */
  readonly sidekiqFailureRatio: number;
  /** Share of CI jobs that fail for reasons other than their own script or timeout, over 30 minutes. @default 0.1 */
  readonly ciJobFailureRatio: number;
  /** Busy Puma threads over all Puma threads. @default 0.9 */
  readonly pumaSaturationRatio: number;
  /** Free share of a filesystem below which it is low (warning). @default 0.15 */
  readonly diskFreeWarningRatio: number;
  /** Free share of a filesystem below which it is nearly full (critical). @default 0.05 */
  readonly diskFreeCriticalRatio: number;
  /** Hours since the last successful backup after which it is too old (config: backups.maxAgeHours). */
  readonly backupMaxAgeHours: number;
}

export const DEFAULT_ALERT_THRESHOLDS: Omit<AlertThresholds, "backupMaxAgeHours"> = {
  sidekiqQueueBacklog: 1000,
  sidekiqFailureRatio: 0.05,
  ciJobFailureRatio: 0.1,
  pumaSaturationRatio: 0.9,
  diskFreeWarningRatio: 0.15,
  diskFreeCriticalRatio: 0.05,
};

/** The thresholds with defaults applied, checked for values no alert could sensibly use. */
export function alertThresholds(t: Partial<AlertThresholds> & Pick<AlertThresholds, "backupMaxAgeHours">): AlertThresholds {
  const all: AlertThresholds = { ...DEFAULT_ALERT_THRESHOLDS, ...t };
  const ratios = ["sidekiqFailureRatio", "ciJobFailureRatio", "pumaSaturationRatio", "diskFreeWarningRatio", "diskFreeCriticalRatio"] as const;
  for (const key of ratios) {
    if (!(all[key] > 0 && all[key] < 1)) throw new Error(`alert threshold ${key} must be a ratio between 0 and 1 (exclusive), got ${all[key]}`);
  }
  if (!Number.isInteger(all.sidekiqQueueBacklog) || all.sidekiqQueueBacklog < 2) {
    throw new Error(`alert threshold sidekiqQueueBacklog must be a whole number of jobs (at least 2), got ${all.sidekiqQueueBacklog}`);
  }
  if (!Number.isInteger(all.backupMaxAgeHours) || all.backupMaxAgeHours < 2) {
    throw new Error(`alert threshold backupMaxAgeHours must be a whole number of hours (at least 2), got ${all.backupMaxAgeHours}`);
  }
  if (all.diskFreeCriticalRatio >= all.diskFreeWarningRatio) {
    throw new Error("alert threshold diskFreeCriticalRatio must be below diskFreeWarningRatio");
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// The model

export type Severity = "warning" | "critical";

/**
 * How annotation text refers to the alert's value and labels. Rendering the rule passes Go
 * template actions ({{ $value | … }}); rendering a unit test passes the text promtool must
 * see after Prometheus has expanded them. One function, so rule and test cannot drift apart.
 */
export interface TemplateContext {
  readonly value: string;
  label(name: string): string;
}

export interface InputSeries {
  /** Series selector with labels, e.g. `up{job="gitlab-node",instance="gitlab:9100"}`. */
  readonly series: string;
  /** promtool's expanding notation, e.g. '0+10x60' or '1x9 0x15'. */
  readonly values: string;
}

export interface ExpectedAlert {
  /** Labels of the firing alert besides alertname and severity. */
  readonly labels: Readonly<Record<string, string>>;
  /** What `{{ $value | <valueFormat> }}` renders to; required when the annotations use the value. */
  readonly value?: string;
}

export interface AlertCheck {
  /** Evaluation time from the start of the series, e.g. '20m'. */
  readonly at: string;
  /** The alerts firing then; empty: the alert must not fire (quiet or still pending). */
  readonly firing: readonly ExpectedAlert[];
}

export interface AlertTestGroup {
  /** What the scenario shows, e.g. 'a target down for longer than 5m'. */
  readonly scenario: string;
  /** Interval between input samples. @default '1m' */
  readonly interval?: string;
  readonly series: readonly InputSeries[];
  readonly checks: readonly AlertCheck[];
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: Severity;
  /** Go template pipeline formatting $value in annotations, e.g. 'humanizePercentage'. */
  readonly valueFormat?: string;
  readonly summary: (c: TemplateContext) => string;
  readonly description: (c: TemplateContext) => string;
  /** promtool unit tests: at least one check where it fires and one where it does not. */
  readonly tests: readonly AlertTestGroup[];
}

// ---------------------------------------------------------------------------------------------
// Formatting shared by rule text and test expectations

/** Prometheus' humanizePercentage for ratios the tests use (Go's %.4g of value × 100). */
export function humanizePercentage(ratio: number): string {
  const percent = ratio * 100;
  if (!(percent >= 1e-4 && percent < 1e4)) throw new Error(`humanizePercentage: ${ratio} is outside the range the tests use`);
  return `${Number(percent.toPrecision(4))}%`;
}

/** Prometheus' humanizeDuration for whole numbers of seconds ≥ 60 (what the backup tests use). */
export function humanizeDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 60) throw new Error(`humanizeDuration: ${seconds} is outside the range the tests use`);
  const s = seconds % 60;
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600) % 24;
  const d = Math.floor(seconds / 86400);
  if (d) return `${d}d ${h}h ${m}m ${s}s`;
  if (h) return `${h}h ${m}m ${s}s`;
  return `${m}m ${s}s`;
}

/** "0.05" → "5%", for thresholds written into annotations. */
const percent = (ratio: number) => `${Number((ratio * 100).toPrecision(6))}%`;

/** A ratio comfortably above / below a ratio threshold, for test inputs. */
function around(threshold: number): { above: number; below: number } {
  const margin = Math.min(threshold, 1 - threshold) / 2;
  return { above: round(threshold + margin), below: round(threshold - margin) };
}

/** Drops floating-point noise (0.15000000000000002 → 0.15) so test inputs read as written. */
const round = (n: number) => Number(n.toPrecision(12));

/** promtool series notation for a counter growing by `perMinute` each 1m sample. */
const counter = (perMinute: number, samples = 120) => `0+${round(perMinute)}x${samples}`;
const gauge = (value: number, samples = 120) => `${round(value)}x${samples}`;

function selector(metric: string, labels: Readonly<Record<string, string>>): string {
  const inner = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",");
  return `${metric}{${inner}}`;
}

// ---------------------------------------------------------------------------------------------
// The rules

const NODE = GITLAB_EXPORTERS.node.job;
/** Three missed share checks (they run every 5 minutes). */
const SHARE_CHECK_STALE_SECONDS = 900;
const NODE_INSTANCE = "gitlab:9100";
/** Filesystems worth alerting on: not memory-backed, not the files Docker bind-mounts into /etc. */
const REAL_FS = `job="${NODE}",fstype!~"tmpfs|ramfs|squashfs|nsfs",mountpoint!~"/etc/(hostname|hosts|resolv\\\\.conf)"`;
const FREE_RATIO = `node_filesystem_avail_bytes{${REAL_FS}} / node_filesystem_size_bytes{${REAL_FS}}`;
/** Failure reasons the job itself causes (a failing test, its own timeout, bad CI config, a cancel). */
const JOB_CAUSED_FAILURES = "script_failure|job_execution_timeout|configuration_error|job_canceled";

/** Filesystem series for the disk tests: the data volume at `freeRatio`, plus look-alikes that must be ignored. */
function diskSeries(freeRatio: number): InputSeries[] {
  const size = 100_000_000_000;
  const fs = (mountpoint: string, fstype: string, device: string, free: number): InputSeries[] => {
    const labels = { job: NODE, instance: NODE_INSTANCE, device, fstype, mountpoint };
    return [
      { series: selector("node_filesystem_size_bytes", labels), values: gauge(size) },
      { series: selector("node_filesystem_avail_bytes", labels), values: gauge(size * free) },
    ];
  };
  return [
    ...fs("/var/opt/gitlab", "ext4", "/dev/sdb1", freeRatio),
    ...fs("/", "overlay", "overlay", 0.5),
    // Always "full" and irrelevant: must never alert.
    ...fs("/dev/shm", "tmpfs", "shm", 0),
    ...fs("/etc/hosts", "ext4", "/dev/sda1", 0),
  ];
}

const DATA_VOLUME = { device: "/dev/sdb1", fstype: "ext4", instance: NODE_INSTANCE, job: NODE, mountpoint: "/var/opt/gitlab" };

export function gitlabAlertRules(t: AlertThresholds): AlertRule[] {
  const sidekiq = around(t.sidekiqFailureRatio);
  const ci = around(t.ciJobFailureRatio);
  const puma = around(t.pumaSaturationRatio);
  const diskWarn = round((t.diskFreeWarningRatio + t.diskFreeCriticalRatio) / 2);
  const diskSafe = around(t.diskFreeWarningRatio).above;
  const diskCrit = round(t.diskFreeCriticalRatio / 2);
  const backupMaxSeconds = t.backupMaxAgeHours * 3600;

  return [
    {
      alert: "GitLabTargetDown",
      expr: "up == 0",
      for: "5m",
      severity: "critical",
      summary: (c) => `${c.label("job")} target ${c.label("instance")} is down`,
      description: (c) =>
        `Prometheus could not scrape ${c.label("instance")} (job ${c.label("job")}) for 5 minutes (threshold: up == 0 for 5m). ` +
        "The component is down, or its metrics listener or the private network is broken.",
      tests: [
        {
          scenario: "Sidekiq's exporter stops answering at 10m; another target stays up",
          series: [
            { series: 'up{job="gitlab-sidekiq",instance="gitlab:8082"}', values: "1x9 0x20" },
            { series: 'up{job="gitlab-node",instance="gitlab:9100"}', values: "1x30" },
          ],
          checks: [
            { at: "5m", firing: [] },
            { at: "12m", firing: [] },
            { at: "17m", firing: [{ labels: { job: "gitlab-sidekiq", instance: "gitlab:8082" } }] },
          ],
        },
      ],
    },
    {
      alert: "GitLabSidekiqQueueBacklog",
      expr: `sum(sidekiq_queue_size{job="${GITLAB_EXPORTERS.gitlabExporter.job}"}) > ${t.sidekiqQueueBacklog}`,
      for: "15m",
      severity: "warning",
      valueFormat: 'printf "%.0f"',
      summary: (c) => `${c.value} Sidekiq jobs are waiting`,
      description: (c) =>
        `More than ${t.sidekiqQueueBacklog} jobs (threshold) have been waiting in Sidekiq's queues for 15 minutes; now ${c.value}. ` +
        "Pipelines, merge request updates and e-mail are stalling: check the Sidekiq dashboard for the busiest queue and whether Sidekiq is running.",
      tests: [
        {
          scenario: `two queues together hold twice the threshold (${2 * t.sidekiqQueueBacklog} jobs)`,
          series: [
            { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="default"}', values: gauge(t.sidekiqQueueBacklog) },
            { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="mailers"}', values: gauge(t.sidekiqQueueBacklog) },
          ],
          checks: [
            { at: "10m", firing: [] },
            { at: "20m", firing: [{ labels: {}, value: String(2 * t.sidekiqQueueBacklog) }] },
          ],
        },
        {
          scenario: `exactly the threshold (${t.sidekiqQueueBacklog} jobs) is not a backlog`,
          series: [
            { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="default"}', values: gauge(Math.floor(t.sidekiqQueueBacklog / 2)) },
            { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="mailers"}', values: gauge(Math.ceil(t.sidekiqQueueBacklog / 2)) },
          ],
          checks: [{ at: "30m", firing: [] }],
        },
      ],
    },
    {
      alert: "GitLabSidekiqJobFailureRate",
      expr:
        `sum(rate(sidekiq_jobs_failed_total{job="${GITLAB_EXPORTERS.sidekiq.job}"}[15m]))` +
        ` / sum(rate(sidekiq_jobs_completion_seconds_count{job="${GITLAB_EXPORTERS.sidekiq.job}"}[15m])) > ${t.sidekiqFailureRatio}`,
      for: "10m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `${c.value} of Sidekiq jobs are failing`,
      description: (c) =>
        `${c.value} of Sidekiq jobs failed over the last 15 minutes (threshold: ${percent(t.sidekiqFailureRatio)} for 10m). ` +
        "Look at the failed jobs by worker on the Sidekiq dashboard and at /var/log/gitlab/sidekiq/current.",
      tests: [
        {
          scenario: `${humanizePercentage(sidekiq.above)} of jobs fail`,
          series: [
            { series: 'sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100) },
            { series: 'sidekiq_jobs_failed_total{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100 * sidekiq.above) },
          ],
          checks: [{ at: "30m", firing: [{ labels: {}, value: humanizePercentage(sidekiq.above) }] }],
        },
        {
          scenario: `${humanizePercentage(sidekiq.below)} of jobs fail`,
          series: [
            { series: 'sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100) },
            { series: 'sidekiq_jobs_failed_total{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100 * sidekiq.below) },
          ],
          checks: [{ at: "30m", firing: [] }],
        },
        {
          scenario: "an idle Sidekiq (no jobs at all) is not a failure",
          series: [
            { series: 'sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: gauge(5) },
            { series: 'sidekiq_jobs_failed_total{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: gauge(5) },
          ],
          checks: [{ at: "30m", firing: [] }],
        },
      ],
    },
    {
      alert: "GitLabCiJobFailureRate",
      expr:
        `sum(rate(gitlab_runner_failed_jobs_total{job="${RUNNER_JOB}",failure_reason!~"${JOB_CAUSED_FAILURES}"}[30m]))` +
        ` / sum(rate(gitlab_runner_jobs_total{job="${RUNNER_JOB}"}[30m])) > ${t.ciJobFailureRatio}`,
      for: "15m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `${c.value} of CI jobs fail because of the runners`,
      description: (c) =>
        `${c.value} of CI jobs failed over the last 30 minutes for reasons other than their own script or timeout ` +
        `(runner system failures, image pulls; threshold: ${percent(t.ciJobFailureRatio)} for 15m). ` +
        "Something in CI is broken: check the CI dashboard's failures by reason and the runner containers' logs.",
      tests: [
        {
          scenario: `${humanizePercentage(ci.above)} of jobs hit runner system failures`,
          series: [
            { series: 'gitlab_runner_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123"}', values: counter(10) },
            {
              series: 'gitlab_runner_failed_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123",failure_reason="runner_system_failure"}',
              values: counter(10 * ci.above),
            },
          ],
          checks: [
            { at: "10m", firing: [] },
            { at: "45m", firing: [{ labels: {}, value: humanizePercentage(ci.above) }] },
          ],
        },
        {
          scenario: `half the jobs fail their own scripts, ${humanizePercentage(ci.below)} hit system failures`,
          series: [
            { series: 'gitlab_runner_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123"}', values: counter(10) },
            {
              series: 'gitlab_runner_failed_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123",failure_reason="script_failure"}',
              values: counter(5),
            },
            {
              series: 'gitlab_runner_failed_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123",failure_reason="runner_system_failure"}',
              values: counter(10 * ci.below),
            },
          ],
          checks: [{ at: "45m", firing: [] }],
        },
      ],
    },
    {
      alert: "GitLabPumaSaturated",
      expr:
        `sum by (instance) (puma_active_connections{job="${GITLAB_EXPORTERS.rails.job}"})` +
        ` / sum by (instance) (puma_max_threads{job="${GITLAB_EXPORTERS.rails.job}"}) > ${t.pumaSaturationRatio}`,
      for: "15m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `Puma on ${c.label("instance")} is ${c.value} busy`,
      description: (c) =>
        `${c.value} of Puma's threads on ${c.label("instance")} have been busy for 15 minutes (threshold: ${percent(t.pumaSaturationRatio)}). ` +
        "Requests queue and the web UI slows down: look for slow endpoints on the Web dashboard, or add Puma workers if memory allows.",
      tests: [
        {
          scenario: `two workers at ${humanizePercentage(puma.above)} of their threads`,
          series: [0, 1].flatMap((w) => [
            { series: `puma_max_threads{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10) },
            { series: `puma_active_connections{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10 * puma.above) },
          ]),
          checks: [
            { at: "10m", firing: [] },
            { at: "20m", firing: [{ labels: { instance: "gitlab:80" }, value: humanizePercentage(puma.above) }] },
          ],
        },
        {
          scenario: `two workers at ${humanizePercentage(puma.below)} of their threads`,
          series: [0, 1].flatMap((w) => [
            { series: `puma_max_threads{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10) },
            { series: `puma_active_connections{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10 * puma.below) },
          ]),
          checks: [{ at: "30m", firing: [] }],
        },
      ],
    },
    {
      alert: "GitLabDiskSpaceLow",
      expr: `${FREE_RATIO} < ${t.diskFreeWarningRatio}`,
      for: "30m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `${c.label("mountpoint")} has ${c.value} free`,
      description: (c) =>
        `${c.label("mountpoint")} (${c.label("device")}) as seen by ${c.label("instance")} has ${c.value} free space left ` +
        `(warning below ${percent(t.diskFreeWarningRatio)} for 30m). Free space before it fills: old backups, registry garbage collection, Docker images.`,
      tests: [
        {
          scenario: `the data volume at ${humanizePercentage(diskWarn)} free`,
          series: diskSeries(diskWarn),
          checks: [
            { at: "20m", firing: [] },
            { at: "35m", firing: [{ labels: DATA_VOLUME, value: humanizePercentage(diskWarn) }] },
          ],
        },
        {
          scenario: `the data volume at ${humanizePercentage(diskSafe)} free; tmpfs and /etc/hosts are ignored`,
          series: diskSeries(diskSafe),
          checks: [{ at: "40m", firing: [] }],
        },
      ],
    },
    {
      alert: "GitLabDiskNearlyFull",
      expr: `${FREE_RATIO} < ${t.diskFreeCriticalRatio}`,
      for: "5m",
      severity: "critical",
      valueFormat: "humanizePercentage",
      summary: (c) => `${c.label("mountpoint")} is nearly full: ${c.value} free`,
      description: (c) =>
        `${c.label("mountpoint")} (${c.label("device")}) as seen by ${c.label("instance")} has only ${c.value} free space left ` +
        `(critical below ${percent(t.diskFreeCriticalRatio)} for 5m). PostgreSQL, Gitaly and backups fail when it is full: free space now.`,
      tests: [
        {
          scenario: `the data volume at ${humanizePercentage(diskCrit)} free`,
          series: diskSeries(diskCrit),
          checks: [
            { at: "3m", firing: [] },
            { at: "10m", firing: [{ labels: DATA_VOLUME, value: humanizePercentage(diskCrit) }] },
          ],
        },
        {
          scenario: `the data volume at ${humanizePercentage(diskWarn)} free is low, not nearly full`,
          series: diskSeries(diskWarn),
          checks: [{ at: "20m", firing: [] }],
        },
      ],
    },
    {
      alert: "GitLabBackupTooOld",
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
          series: [{ series: 'gitlab_backup_last_success_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: gauge(-(backupMaxSeconds + 3600)) }],
          checks: [{ at: "20m", firing: [{ labels: {}, value: humanizeDuration(backupMaxSeconds + 3600 + 20 * 60) }] }],
        },
        {
          scenario: `a backup ${t.backupMaxAgeHours}h minus 30m old ages past the threshold`,
          series: [{ series: 'gitlab_backup_last_success_timestamp_seconds{job="gitlab-node",instance="gitlab:9100"}', values: gauge(-(backupMaxSeconds - 1800)) }],
          checks: [
            { at: "20m", firing: [] },
            { at: "35m", firing: [] },
            { at: "60m", firing: [{ labels: {}, value: humanizeDuration(backupMaxSeconds - 1800 + 3600) }] },
          ],
        },
      ],
    },
    {
      // GitLabBackupTooOld only notices a failure once the last success has aged past its
      // threshold (a day or more); the script's status gauge says so right after the run.
      // It stays 0 until the next run, so `for` only needs to cover one scrape.
      alert: "GitLabBackupFailed",
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
    },
    {
      alert: "GitLabBackupMissing",
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
    },
    {
      // The backup scheduler checks its NFS share every 5 minutes (gitlab-backup-share-check.sh):
      // a share gone (NAS down, export changed, mount hung) alerts now, not when the next
      // backup fails and the one after is overdue.
      alert: "GitLabBackupShareUnavailable",
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
    },
    {
      // Nobody checks the share when the scheduler is not running, e.g. because the NAS was
      // down as the host booted and Docker could not mount the share to start it.
      alert: "GitLabBackupShareCheckStale",
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
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Rendering

const RULE_CONTEXT = (format: string | undefined): TemplateContext => ({
  value: format ? `{{ $value | ${format} }}` : "{{ $value }}",
  label: (name) => `{{ $labels.${name} }}`,
});

function expectedContext(rule: AlertRule, expected: ExpectedAlert): TemplateContext {
  return {
    get value() {
      if (expected.value === undefined) throw new Error(`a unit test of ${rule.alert} must give the expected value: its annotations use it`);
      return expected.value;
    },
    label: (name) => {
      const v = expected.labels[name];
      if (v === undefined) throw new Error(`a unit test of ${rule.alert} must give label '${name}': its annotations use it`);
      return v;
    },
  };
}

export const RULE_GROUP = "gitlab";

export function renderAlertRules(rules: readonly AlertRule[]): string {
  const names = new Set(rules.map((r) => r.alert));
  if (names.size !== rules.length) throw new Error("alert names must be unique");
  const doc = {
    groups: [
      {
        name: RULE_GROUP,
        rules: rules.map((r) => {
          const c = RULE_CONTEXT(r.valueFormat);
          return {
            alert: r.alert,
            expr: r.expr,
            for: r.for,
            labels: { severity: r.severity },
            annotations: { summary: r.summary(c), description: r.description(c) },
          };
        }),
      },
    ],
  };
  return `# Generated by gitlab-platform (userdata/monitoring/alert-rules.ts). Unit tests: gitlab.rules.test.yml.\n${stringify(doc, { lineWidth: 0 })}`;
}

/** `promtool test rules` input for the rules; `ruleFile` as the test file refers to it (absolute, or relative to the test file). */
export function renderAlertRuleTests(rules: readonly AlertRule[], ruleFile: string): string {
  const tests = rules.flatMap((rule) => {
    const fires = rule.tests.some((g) => g.checks.some((c) => c.firing.length > 0));
    const quiet = rule.tests.some((g) => g.checks.some((c) => c.firing.length === 0));
    if (!fires || !quiet) throw new Error(`alert ${rule.alert} needs a unit test where it fires and one where it does not`);
    return rule.tests.map((group) => ({
      name: `${rule.alert}: ${group.scenario}`,
      interval: group.interval ?? "1m",
      input_series: group.series.map((s) => ({ series: s.series, values: s.values })),
      alert_rule_test: group.checks.map((check) => ({
        eval_time: check.at,
        alertname: rule.alert,
        exp_alerts: check.firing.map((expected) => {
          const c = expectedContext(rule, expected);
          return {
            exp_labels: { severity: rule.severity, ...expected.labels },
            exp_annotations: { summary: rule.summary(c), description: rule.description(c) },
          };
        }),
      })),
    }));
  });
  const doc = { rule_files: [ruleFile], evaluation_interval: "1m", tests };
  return `# Generated by gitlab-platform (userdata/monitoring/alert-rules.ts): promtool test rules <this file>.\n${stringify(doc, { lineWidth: 0 })}`;
}
