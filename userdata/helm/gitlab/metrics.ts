// Prometheus operator monitors for GitLab's metrics endpoints. Each scrape's `job` label is
// set to the name the platform's alert rules select on (userdata/monitoring/prometheus-config.ts),
// so the same rules work here as on the docker platform.
import type { HelmValues } from "../values";

/** Relabel every series of a monitor to one job name (after the operator's own labels). */
export const jobRelabeling = (job: string) => [{ targetLabel: "job", replacement: job }];

export const METRIC_JOBS = {
  rails: "gitlab-rails",
  workhorse: "gitlab-workhorse",
  sidekiq: "gitlab-sidekiq",
  gitlabExporter: "gitlab-exporter",
  gitaly: "gitlab-gitaly",
  registry: "gitlab-registry",
} as const;

export interface MetricsChartSettings {
  /** Labels the cluster's Prometheus selects monitors by. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** The registry runs (its monitor is made only then). */
  readonly registry: boolean;
}

function monitor(m: MetricsChartSettings, job: string): HelmValues {
  return { enabled: true, additionalLabels: { ...m.selectorLabels }, endpointConfig: { relabelings: jobRelabeling(job) } };
}

export function metricsValues(m: MetricsChartSettings): HelmValues {
  return {
    gitlab: {
      webservice: {
        metrics: { enabled: true, serviceMonitor: monitor(m, METRIC_JOBS.rails) },
        workhorse: { metrics: { enabled: true, serviceMonitor: monitor(m, METRIC_JOBS.workhorse) } },
      },
      sidekiq: { metrics: { enabled: true, podMonitor: monitor(m, METRIC_JOBS.sidekiq) } },
      "gitlab-exporter": { enabled: true, metrics: { enabled: true, serviceMonitor: monitor(m, METRIC_JOBS.gitlabExporter) } },
      gitaly: { metrics: { enabled: true, serviceMonitor: monitor(m, METRIC_JOBS.gitaly) } },
    },
    ...(m.registry ? { registry: { metrics: { enabled: true, serviceMonitor: monitor(m, METRIC_JOBS.registry) } } } : {}),
  };
}
