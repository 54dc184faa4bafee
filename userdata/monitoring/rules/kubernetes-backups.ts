// Backups on a cluster: the CronJobs' last success, from kube-state-metrics (the docker host's
// node_exporter gauges do not exist there).
import { humanizeDuration, type InputSeries } from "../alert-rules";
import { gauge, selector } from "./inputs";
import type { KubernetesAlertRuleDefinition, KubernetesAlertScope } from "./kubernetes-scope";

/** The selector of the backup CronJobs, and test series for the first of them. */
function cronJobs(s: KubernetesAlertScope) {
  const cronjob = s.backupCronJobs[0]!;
  const labels = { namespace: s.namespace, cronjob };
  return {
    cronjob,
    matcher: `namespace="${s.namespace}",cronjob=~"${s.backupCronJobs.join("|")}"`,
    lastSuccess: (value: number): InputSeries => ({ series: selector("kube_cronjob_status_last_successful_time", labels), values: gauge(value) }),
    created: (value: number): InputSeries => ({ series: selector("kube_cronjob_created", labels), values: gauge(value) }),
  };
}

export const cronJobBackupTooOld: KubernetesAlertRuleDefinition = {
  alert: "GitLabBackupTooOld",
  build: (t, s) => {
    const max = t.backupMaxAgeHours * 3600;
    const { cronjob, matcher, lastSuccess } = cronJobs(s);
    return {
      expr: `time() - max by (cronjob) (kube_cronjob_status_last_successful_time{${matcher}}) > ${max}`,
      for: "10m",
      severity: "critical",
      valueFormat: "humanizeDuration",
      summary: (c) => `${c.label("cronjob")} last succeeded ${c.value} ago`,
      description: (c) =>
        `The CronJob ${c.label("cronjob")} in ${s.namespace} last succeeded ${c.value} ago (threshold: ${t.backupMaxAgeHours} hours). ` +
        `A restore now would lose everything since then: \`kubectl -n ${s.namespace} get jobs\` and the failed job's logs say why.`,
      tests: [
        // The test clock starts at Unix time 0, so a success before it has a negative timestamp.
        {
          scenario: `the last success ${t.backupMaxAgeHours + 1}h ago`,
          series: [lastSuccess(-(max + 3600))],
          checks: [{ at: "20m", firing: [{ labels: { cronjob }, value: humanizeDuration(max + 3600 + 1200) }] }],
        },
        { scenario: "a success 20 minutes ago", series: [lastSuccess(0)], checks: [{ at: "20m", firing: [] }] },
      ],
    };
  },
};

export const cronJobBackupMissing: KubernetesAlertRuleDefinition = {
  alert: "GitLabBackupMissing",
  build: (t, s) => {
    const max = t.backupMaxAgeHours * 3600;
    const { cronjob, matcher, lastSuccess, created } = cronJobs(s);
    return {
      expr: `(time() - kube_cronjob_created{${matcher}} > ${max}) unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{${matcher}}`,
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
    };
  },
};
