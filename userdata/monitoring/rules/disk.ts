// Free space on the Docker host's filesystems, as GitLab's node_exporter sees them: low
// (warning), then nearly full (critical).
import { humanizePercentage, type AlertRuleDefinition, type AlertThresholds, type InputSeries } from "../alert-rules";
import { around, gauge, NODE, NODE_INSTANCE, percent, round, selector } from "./inputs";

/** Filesystems worth alerting on: not memory-backed, not the files Docker bind-mounts into /etc. */
const REAL_FS = `job="${NODE}",fstype!~"tmpfs|ramfs|squashfs|nsfs",mountpoint!~"/etc/(hostname|hosts|resolv\\\\.conf)"`;
const FREE_RATIO = `node_filesystem_avail_bytes{${REAL_FS}} / node_filesystem_size_bytes{${REAL_FS}}`;

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

/** A free share between the critical and the warning threshold: low, not nearly full. */
const warningTestRatio = (t: AlertThresholds) => round((t.diskFreeWarningRatio + t.diskFreeCriticalRatio) / 2);

export const diskSpaceLow: AlertRuleDefinition = {
  alert: "GitLabDiskSpaceLow",
  build: (t) => {
    const diskWarn = warningTestRatio(t);
    const diskSafe = around(t.diskFreeWarningRatio).above;
    return {
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
    };
  },
};

export const diskNearlyFull: AlertRuleDefinition = {
  alert: "GitLabDiskNearlyFull",
  build: (t) => {
    const diskCrit = round(t.diskFreeCriticalRatio / 2);
    const diskWarn = warningTestRatio(t);
    return {
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
    };
  },
};
