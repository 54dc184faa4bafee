// Observability props: monitors and rules, when the cluster runs the Prometheus operator.
import { SECRETS_EXPORT_CRONJOB } from "../../constructs/backups/kubernetes-secrets-export";
import type { KubernetesObservabilityProps } from "../../constructs/observability/kubernetes";
import { BACKUP_CRONJOB } from "../../userdata/helm/gitlab/backups";
import type { KubernetesEnvironment } from "./environment";

export function observabilityProps(env: KubernetesEnvironment, namespace: KubernetesObservabilityProps["namespace"]): KubernetesObservabilityProps | undefined {
  if (!env.observability.prometheusOperator) return undefined;
  return {
    namespace,
    runnerNamespace: env.runners.namespace,
    selectorLabels: env.observability.selectorLabels,
    backupMaxAgeHours: env.backups.maxAgeHours,
    alertThresholds: env.observability.alertThresholds,
    backupCronJobs: [BACKUP_CRONJOB, SECRETS_EXPORT_CRONJOB],
    registry: env.registry.enabled,
  };
}
