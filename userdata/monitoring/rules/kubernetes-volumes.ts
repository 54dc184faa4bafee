// Free space on a cluster's volumes (Gitaly, PostgreSQL, Redis), from the kubelet's volume
// statistics: low (warning), then nearly full (critical).
import { humanizePercentage, type AlertRule, type AlertThresholds, type InputSeries, type Severity } from "../alert-rules";
import { round, selector } from "./inputs";
import type { KubernetesAlertRuleDefinition, KubernetesAlertScope } from "./kubernetes-scope";

const PVC = "repo-data-gitlab-gitaly-0";
const CAPACITY = 100_000_000_000;
/** Written as computed (not rounded): the rendered tests stay what they have always been. */
const exactGauge = (value: number) => `${value}x120`;

const volume = (namespace: string, free: number): InputSeries[] => [
  { series: selector("kubelet_volume_stats_capacity_bytes", { namespace, persistentvolumeclaim: PVC }), values: exactGauge(CAPACITY) },
  { series: selector("kubelet_volume_stats_available_bytes", { namespace, persistentvolumeclaim: PVC }), values: exactGauge(CAPACITY * free) },
];

/** A free share between the critical and the warning threshold: low, not nearly full. */
const warningTestRatio = (t: AlertThresholds) => round((t.diskFreeWarningRatio + t.diskFreeCriticalRatio) / 2);

interface VolumeRule {
  readonly threshold: number;
  readonly for: string;
  readonly severity: Severity;
  /** Free shares where it fires and where it stays quiet, for its tests. */
  readonly firingAt: number;
  readonly quietAt: number;
}

function volumeRule(s: KubernetesAlertScope, r: VolumeRule): Omit<AlertRule, "alert"> {
  const ns = `namespace="${s.namespace}"`;
  return {
    expr: `kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}} < ${r.threshold}`,
    for: r.for,
    severity: r.severity,
    valueFormat: "humanizePercentage",
    summary: (c) => `Volume ${c.label("persistentvolumeclaim")} has ${c.value} free`,
    description: (c) =>
      `The volume ${c.label("persistentvolumeclaim")} in ${c.label("namespace")} has ${c.value} free space left (${r.severity} below ${humanizePercentage(r.threshold)} for ${r.for}). ` +
      "Gitaly, PostgreSQL and Redis fail when theirs is full: expand the PersistentVolumeClaim (the StorageClass allows it) or free space.",
    tests: [
      {
        scenario: `the Gitaly volume at ${humanizePercentage(r.firingAt)} free, another namespace's volume full`,
        series: [...volume(s.namespace, r.firingAt), ...volume("other", 0)],
        checks: [{ at: "40m", firing: [{ labels: { namespace: s.namespace, persistentvolumeclaim: PVC }, value: humanizePercentage(r.firingAt) }] }],
      },
      { scenario: `the Gitaly volume at ${humanizePercentage(r.quietAt)} free`, series: volume(s.namespace, r.quietAt), checks: [{ at: "40m", firing: [] }] },
    ],
  };
}

export const volumeSpaceLow: KubernetesAlertRuleDefinition = {
  alert: "GitLabDiskSpaceLow",
  build: (t, s) =>
    volumeRule(s, {
      threshold: t.diskFreeWarningRatio,
      for: "30m",
      severity: "warning",
      firingAt: warningTestRatio(t),
      quietAt: round((1 + t.diskFreeWarningRatio) / 2),
    }),
};

export const volumeNearlyFull: KubernetesAlertRuleDefinition = {
  alert: "GitLabDiskNearlyFull",
  build: (t, s) =>
    volumeRule(s, {
      threshold: t.diskFreeCriticalRatio,
      for: "5m",
      severity: "critical",
      firingAt: round(t.diskFreeCriticalRatio / 2),
      quietAt: warningTestRatio(t),
    }),
};
