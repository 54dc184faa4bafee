// Every alert rule of the platform, one list per platform, in the order of the rendered rule
// file. A rule lives in the file of its area (one definition each: its name, and its rule with
// promtool tests built from the thresholds); adding one is adding it to its file and to a list
// here. Tests and the README's count of alert rules derive from these lists.
import { buildAlertRules, type AlertRule, type AlertRuleDefinition, type AlertThresholds } from "../alert-rules";
import { backupFailed, backupMissing, backupTooOld } from "./backups";
import { backupShareCheckStale, backupShareUnavailable } from "./backup-share";
import { ciJobFailureRate } from "./ci";
import { diskNearlyFull, diskSpaceLow } from "./disk";
import { cronJobBackupMissing, cronJobBackupTooOld } from "./kubernetes-backups";
import { onCluster, type KubernetesAlertRuleDefinition, type KubernetesAlertScope } from "./kubernetes-scope";
import { volumeNearlyFull, volumeSpaceLow } from "./kubernetes-volumes";
import { pumaSaturated } from "./puma";
import { sidekiqJobFailureRate, sidekiqQueueBacklog } from "./sidekiq";
import { targetDown } from "./targets";

export type { KubernetesAlertScope } from "./kubernetes-scope";

/** The docker platform's rules: Prometheus beside GitLab on the Docker host. */
export const GITLAB_ALERT_RULES: readonly AlertRuleDefinition[] = [
  targetDown,
  sidekiqQueueBacklog,
  sidekiqJobFailureRate,
  ciJobFailureRate,
  pumaSaturated,
  diskSpaceLow,
  diskNearlyFull,
  backupTooOld,
  backupFailed,
  backupMissing,
  backupShareUnavailable,
  backupShareCheckStale,
];

/** The docker platform's rules that mean the same on a cluster (job labels are relabelled to match). */
export const SHARED_RULES: readonly AlertRuleDefinition[] = [targetDown, sidekiqQueueBacklog, sidekiqJobFailureRate, ciJobFailureRate, pumaSaturated];

/**
 * The kubernetes platform's rules: the shared ones scoped to GitLab's namespaces, then backup
 * age and volume space from what a cluster exposes (kube-state-metrics' CronJob status, the
 * kubelet's volume statistics) instead of the Docker host's node_exporter.
 */
export const KUBERNETES_ALERT_RULES: readonly KubernetesAlertRuleDefinition[] = [
  ...SHARED_RULES.map(onCluster),
  cronJobBackupTooOld,
  cronJobBackupMissing,
  volumeSpaceLow,
  volumeNearlyFull,
];

/** Every alert rule of a docker environment. */
export function gitlabAlertRules(t: AlertThresholds): AlertRule[] {
  return buildAlertRules(GITLAB_ALERT_RULES, t);
}

/** Every alert rule of a kubernetes environment. */
export function kubernetesAlertRules(t: AlertThresholds, s: KubernetesAlertScope): AlertRule[] {
  return buildAlertRules(KUBERNETES_ALERT_RULES, t, s);
}
