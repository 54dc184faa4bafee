// The platform's alert rules as a Prometheus operator PrometheusRule: the same rule groups
// `promtool check rules` verifies, wrapped in the custom resource.
import { parse } from "yaml";
import { renderAlertRules, type AlertRule } from "../monitoring/alert-rules";
import type { KubernetesManifest } from "./manifest";

export interface PrometheusRuleSettings {
  readonly name: string;
  readonly namespace: string;
  /** Labels the cluster's Prometheus selects rules by. */
  readonly labels: Readonly<Record<string, string>>;
  readonly rules: readonly AlertRule[];
}

export function prometheusRule(s: PrometheusRuleSettings): KubernetesManifest {
  const { groups } = parse(renderAlertRules(s.rules)) as { groups: unknown[] };
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: s.name, namespace: s.namespace, labels: { ...s.labels } },
    spec: { groups },
  };
}
