// The platform's alert rules on a cluster whose Prometheus operator scrapes GitLab (the
// kubernetes platform). The rules about GitLab itself are the same as on the docker platform
// (userdata/monitoring/alert-rules.ts), scoped to GitLab's namespaces because a cluster's
// Prometheus sees every workload. Backup age and volume space come from what a cluster
// exposes instead of the docker host's node_exporter: kube-state-metrics' CronJob status and
// the kubelet's volume statistics.
import { gitlabAlertRules, humanizeDuration, humanizePercentage, type AlertRule, type AlertThresholds, type InputSeries } from "./alert-rules";
import { scopeExpression, scopeSeries } from "./promql-scope";

/** The docker platform's rules that mean the same on a cluster (job labels are relabelled to match). */
export const SHARED_RULES = ["GitLabTargetDown", "GitLabSidekiqQueueBacklog", "GitLabSidekiqJobFailureRate", "GitLabCiJobFailureRate", "GitLabPumaSaturated"] as const;

export interface KubernetesAlertScope {
  /** GitLab's namespace: its pods, CronJobs and volumes. */
  readonly namespace: string;
  /** The runner's namespace (its metrics). */
  readonly runnerNamespace: string;
  /** The CronJobs whose last success must be recent: the toolbox backup and the secrets export. */
  readonly backupCronJobs: readonly string[];
}

/** One shared rule scoped to the namespaces: its expression and its tests' input series. */
function scoped(rule: AlertRule, namespaces: readonly string[]): AlertRule {
  const matcher = `namespace=~"${namespaces.join("|")}"`;
  const label = { namespace: namespaces[0]! };
  return {
    ...rule,
    expr: scopeExpression(rule.expr, matcher),
    tests: rule.tests.map((group) => ({
      ...group,
      series: group.series.map((s) => ({ ...s, series: scopeSeries(s.series, label) })),
      checks: group.checks.map((check) => ({
        ...check,
        // An alert that keeps the job label keeps every label of its input series: the namespace too.
        firing: check.firing.map((f) => ("job" in f.labels ? { ...f, labels: { ...f.labels, ...label } } : f)),
      })),
    })),
  };
}

const selector = (metric: string, labels: Readonly<Record<string, string>>) =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",")}}`;
const gauge = (value: number, samples = 120) => `${value}x${samples}`;

function backupRules(t: AlertThresholds, s: KubernetesAlertScope): AlertRule[] {
  const max = t.backupMaxAgeHours * 3600;
  const jobs = `namespace="${s.namespace}",cronjob=~"${s.backupCronJobs.join("|")}"`;
  const cronjob = s.backupCronJobs[0]!;
  const lastSuccess = (value: number): InputSeries => ({ series: selector("kube_cronjob_status_last_successful_time", { namespace: s.namespace, cronjob }), values: gauge(value) });
  const created = (value: number): InputSeries => ({ series: selector("kube_cronjob_created", { namespace: s.namespace, cronjob }), values: gauge(value) });
  return [
    {
      alert: "GitLabBackupTooOld",
      expr: `time() - max by (cronjob) (kube_cronjob_status_last_successful_time{${jobs}}) > ${max}`,
      for: "10m",
      severity: "critical",
      valueFormat: "humanizeDuration",
      summary: (c) => `${c.label("cronjob")} last succeeded ${c.value} ago`,
      description: (c) =>
        `The CronJob ${c.label("cronjob")} in ${s.namespace} last succeeded ${c.value} ago (threshold: ${t.backupMaxAgeHours} hours). ` +
        `A restore now would lose everything since then: \`kubectl -n ${s.namespace} get jobs\` and the failed job's logs say why.`,
      tests: [
        // The test clock starts at Unix time 0, so a success before it has a negative timestamp.
        { scenario: `the last success ${t.backupMaxAgeHours + 1}h ago`, series: [lastSuccess(-(max + 3600))], checks: [{ at: "20m", firing: [{ labels: { cronjob }, value: humanizeDuration(max + 3600 + 1200) }] }] },
        { scenario: "a success 20 minutes ago", series: [lastSuccess(0)], checks: [{ at: "20m", firing: [] }] },
      ],
    },
    {
      alert: "GitLabBackupMissing",
      expr: `(time() - kube_cronjob_created{${jobs}} > ${max}) unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{${jobs}}`,
      for: "30m",
      severity: "critical",
      summary: (c) => `${c.label("cronjob")} has never succeeded`,
      description: (c) =>
        `The CronJob ${c.label("cronjob")} in ${c.label("namespace")} is older than ${t.backupMaxAgeHours} hours and has no successful run. ` +
        `Run it now (\`kubectl -n ${c.label("namespace")} create job --from=cronjob/${c.label("cronjob")} ${c.label("cronjob")}-manual\`) and read its logs.`,
      tests: [
        {
          scenario: `a CronJob created ${t.backupMaxAgeHours + 1}h ago that never succeeded`,
          series: [created(-(max + 3600))],
          checks: [
            { at: "20m", firing: [] },
            { at: "40m", firing: [{ labels: { namespace: s.namespace, cronjob } }] },
          ],
        },
        { scenario: "the same CronJob with a success", series: [created(-(max + 3600)), lastSuccess(-3600)], checks: [{ at: "40m", firing: [] }] },
        { scenario: "a CronJob created an hour ago", series: [created(-3600)], checks: [{ at: "40m", firing: [] }] },
      ],
    },
  ];
}

function volumeRules(t: AlertThresholds, s: KubernetesAlertScope): AlertRule[] {
  const ns = `namespace="${s.namespace}"`;
  const ratio = `kubelet_volume_stats_available_bytes{${ns}} / kubelet_volume_stats_capacity_bytes{${ns}}`;
  const pvc = "repo-data-gitlab-gitaly-0";
  const volume = (namespace: string, free: number): InputSeries[] => [
    { series: selector("kubelet_volume_stats_capacity_bytes", { namespace, persistentvolumeclaim: pvc }), values: gauge(100_000_000_000) },
    { series: selector("kubelet_volume_stats_available_bytes", { namespace, persistentvolumeclaim: pvc }), values: gauge(100_000_000_000 * free) },
  ];
  const warn = Number(((t.diskFreeWarningRatio + t.diskFreeCriticalRatio) / 2).toPrecision(12));
  const crit = Number((t.diskFreeCriticalRatio / 2).toPrecision(12));
  const rule = (alert: string, threshold: number, forTime: string, severity: "warning" | "critical", firingAt: number, quietAt: number): AlertRule => ({
    alert,
    expr: `${ratio} < ${threshold}`,
    for: forTime,
    severity,
    valueFormat: "humanizePercentage",
    summary: (c) => `Volume ${c.label("persistentvolumeclaim")} has ${c.value} free`,
    description: (c) =>
      `The volume ${c.label("persistentvolumeclaim")} in ${c.label("namespace")} has ${c.value} free space left (${severity} below ${humanizePercentage(threshold)} for ${forTime}). ` +
      "Gitaly, PostgreSQL and Redis fail when theirs is full: expand the PersistentVolumeClaim (the StorageClass allows it) or free space.",
    tests: [
      {
        scenario: `the Gitaly volume at ${humanizePercentage(firingAt)} free, another namespace's volume full`,
        series: [...volume(s.namespace, firingAt), ...volume("other", 0)],
        checks: [{ at: "40m", firing: [{ labels: { namespace: s.namespace, persistentvolumeclaim: pvc }, value: humanizePercentage(firingAt) }] }],
      },
      { scenario: `the Gitaly volume at ${humanizePercentage(quietAt)} free`, series: volume(s.namespace, quietAt), checks: [{ at: "40m", firing: [] }] },
    ],
  });
  return [
    rule("GitLabDiskSpaceLow", t.diskFreeWarningRatio, "30m", "warning", warn, Number(((1 + t.diskFreeWarningRatio) / 2).toPrecision(12))),
    rule("GitLabDiskNearlyFull", t.diskFreeCriticalRatio, "5m", "critical", crit, warn),
  ];
}

/** Every alert rule of a kubernetes environment. */
export function kubernetesAlertRules(t: AlertThresholds, s: KubernetesAlertScope): AlertRule[] {
  const shared = gitlabAlertRules(t).filter((r) => (SHARED_RULES as readonly string[]).includes(r.alert));
  return [...shared.map((r) => scoped(r, [s.namespace, s.runnerNamespace])), ...backupRules(t, s), ...volumeRules(t, s)];
}
