// Sidekiq, GitLab's background jobs: a queue that keeps growing, or jobs that keep failing.
import { humanizePercentage, type AlertRuleDefinition } from "../alert-rules";
import { GITLAB_EXPORTERS } from "../prometheus-config";
import { around, counter, gauge, percent } from "./inputs";

export const sidekiqQueueBacklog: AlertRuleDefinition = {
  alert: "GitLabSidekiqQueueBacklog",
  build: (t) => ({
    expr: `sum(sidekiq_queue_size{job="${GITLAB_EXPORTERS.gitlabExporter.job}"}) > ${t.sidekiqQueueBacklog}`,
    for: "15m",
    severity: "warning",
    valueFormat: 'printf "%.0f"',
    summary: (c) => `${c.value} Sidekiq jobs are waiting`,
    description: (c) =>
      `More than ${t.sidekiqQueueBacklog} jobs (threshold) have been waiting in Sidekiq's queues for 15 minutes; now ${c.value}. ` +
      "Pipelines, merge request updates and e-mail are stalling: check the Sidekiq dashboard for the busiest queue and whether Sidekiq is running.",
    tests: [
      {
        scenario: `two queues together hold twice the threshold (${2 * t.sidekiqQueueBacklog} jobs)`,
        series: [
          { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="default"}', values: gauge(t.sidekiqQueueBacklog) },
          { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="mailers"}', values: gauge(t.sidekiqQueueBacklog) },
        ],
        checks: [
          { at: "10m", firing: [] },
          { at: "20m", firing: [{ labels: {}, value: String(2 * t.sidekiqQueueBacklog) }] },
        ],
      },
      {
        scenario: `exactly the threshold (${t.sidekiqQueueBacklog} jobs) is not a backlog`,
        series: [
          { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="default"}', values: gauge(Math.floor(t.sidekiqQueueBacklog / 2)) },
          { series: 'sidekiq_queue_size{job="gitlab-exporter",instance="gitlab:9168",name="mailers"}', values: gauge(Math.ceil(t.sidekiqQueueBacklog / 2)) },
        ],
        checks: [{ at: "30m", firing: [] }],
      },
    ],
  }),
};

export const sidekiqJobFailureRate: AlertRuleDefinition = {
  alert: "GitLabSidekiqJobFailureRate",
  build: (t) => {
    const sidekiq = around(t.sidekiqFailureRatio);
    return {
      expr:
        `sum(rate(sidekiq_jobs_failed_total{job="${GITLAB_EXPORTERS.sidekiq.job}"}[15m]))` +
        ` / sum(rate(sidekiq_jobs_completion_seconds_count{job="${GITLAB_EXPORTERS.sidekiq.job}"}[15m])) > ${t.sidekiqFailureRatio}`,
      for: "10m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `${c.value} of Sidekiq jobs are failing`,
      description: (c) =>
        `${c.value} of Sidekiq jobs failed over the last 15 minutes (threshold: ${percent(t.sidekiqFailureRatio)} for 10m). ` +
        "Look at the failed jobs by worker on the Sidekiq dashboard and at /var/log/gitlab/sidekiq/current.",
      tests: [
        {
          scenario: `${humanizePercentage(sidekiq.above)} of jobs fail`,
          series: [
            { series: 'sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100) },
            { series: 'sidekiq_jobs_failed_total{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100 * sidekiq.above) },
          ],
          checks: [{ at: "30m", firing: [{ labels: {}, value: humanizePercentage(sidekiq.above) }] }],
        },
        {
          scenario: `${humanizePercentage(sidekiq.below)} of jobs fail`,
          series: [
            { series: 'sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100) },
            { series: 'sidekiq_jobs_failed_total{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: counter(100 * sidekiq.below) },
          ],
          checks: [{ at: "30m", firing: [] }],
        },
        {
          scenario: "an idle Sidekiq (no jobs at all) is not a failure",
          series: [
            { series: 'sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: gauge(5) },
            { series: 'sidekiq_jobs_failed_total{job="gitlab-sidekiq",instance="gitlab:8082",worker="PostReceive"}', values: gauge(5) },
          ],
          checks: [{ at: "30m", firing: [] }],
        },
      ],
    };
  },
};
