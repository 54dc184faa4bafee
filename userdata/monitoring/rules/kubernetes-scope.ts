// The docker platform's GitLab rules on a cluster: the same rules, scoped to GitLab's
// namespaces, because a cluster's Prometheus sees every workload.
import type { AlertRule, AlertRuleDefinition, AlertThresholds } from "../alert-rules";
import { scopeExpression, scopeSeries } from "../promql-scope";

export interface KubernetesAlertScope {
  /** GitLab's namespace: its pods, CronJobs and volumes. */
  readonly namespace: string;
  /** The runner's namespace (its metrics). */
  readonly runnerNamespace: string;
  /** The CronJobs whose last success must be recent: the toolbox backup and the secrets export. */
  readonly backupCronJobs: readonly string[];
}

/** A rule of the kubernetes platform: built from the thresholds and the namespaces. */
export type KubernetesAlertRuleDefinition = AlertRuleDefinition<[AlertThresholds, KubernetesAlertScope]>;

/** A docker platform rule that means the same on a cluster (job labels are relabelled to match), scoped to GitLab's and the runner's namespaces. */
export function onCluster(rule: AlertRuleDefinition): KubernetesAlertRuleDefinition {
  return { alert: rule.alert, build: (t, s) => scoped(rule.build(t), [s.namespace, s.runnerNamespace]) };
}

/** One shared rule scoped to the namespaces: its expression and its tests' input series. */
function scoped(rule: Omit<AlertRule, "alert">, namespaces: readonly string[]): Omit<AlertRule, "alert"> {
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
