// Observability on the kubernetes platform, where the cluster runs the Prometheus operator:
// monitors for GitLab's and the runner's metrics (their parts of the charts' values, with
// the job labels the rules expect) and a PrometheusRule with the platform's alert rules
// (userdata/monitoring/rules/).
import { Construct } from "constructs";
import { metricsValues } from "../../userdata/helm/gitlab/metrics";
import type { HelmValues } from "../../userdata/helm/values";
import { prometheusRule } from "../../userdata/kubernetes/prometheus-rule";
import { alertThresholds, type AlertThresholds } from "../../userdata/monitoring/alert-rules";
import { kubernetesAlertRules } from "../../userdata/monitoring/rules";
import { PlatformManifest, type PlatformNamespace } from "../kubernetes-conventions";

export interface KubernetesObservabilityProps {
  readonly namespace: PlatformNamespace;
  /** The runner's namespace (its metrics are scoped to it). */
  readonly runnerNamespace: string;
  /** Labels the cluster's Prometheus selects monitors and rules by. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Hours after the last successful backup at which GitLabBackupTooOld fires. */
  readonly backupMaxAgeHours: number;
  /** Other thresholds than the defaults (DEFAULT_ALERT_THRESHOLDS). @default {} */
  readonly alertThresholds?: Partial<Omit<AlertThresholds, "backupMaxAgeHours">>;
  /** CronJobs whose last success must be recent. */
  readonly backupCronJobs: readonly string[];
  /** The registry runs (it gets a monitor). */
  readonly registry: boolean;
}

export class KubernetesObservability extends Construct {
  /** Its part of the GitLab chart's values: the monitors. */
  readonly chartValues: HelmValues;
  /** What the runner's chart needs for its PodMonitor. */
  readonly runnerMetrics: { readonly selectorLabels: Readonly<Record<string, string>> };
  readonly rules: PlatformManifest;

  constructor(scope: Construct, id: string, props: KubernetesObservabilityProps) {
    super(scope, id);
    this.chartValues = metricsValues({ selectorLabels: props.selectorLabels, registry: props.registry });
    this.runnerMetrics = { selectorLabels: props.selectorLabels };
    const rules = kubernetesAlertRules(alertThresholds({ ...props.alertThresholds, backupMaxAgeHours: props.backupMaxAgeHours }), {
      namespace: props.namespace.name,
      runnerNamespace: props.runnerNamespace,
      backupCronJobs: props.backupCronJobs,
    });
    this.rules = new PlatformManifest(
      this,
      "rules",
      prometheusRule({ name: "gitlab-platform", namespace: props.namespace.name, labels: props.selectorLabels, rules }),
      [props.namespace.resource],
    );
  }
}
