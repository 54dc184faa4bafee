// CI: jobs failing because of the runners, not because of their own scripts.
import { humanizePercentage, type AlertRuleDefinition } from "../alert-rules";
import { RUNNER_JOB } from "../prometheus-config";
import { around, counter, percent } from "./inputs";

/** Failure reasons the job itself causes (a failing test, its own timeout, bad CI config, a cancel). */
const JOB_CAUSED_FAILURES = "script_failure|job_execution_timeout|configuration_error|job_canceled";

export const ciJobFailureRate: AlertRuleDefinition = {
  alert: "GitLabCiJobFailureRate",
  build: (t) => {
    const ci = around(t.ciJobFailureRatio);
    return {
      expr:
        `sum(rate(gitlab_runner_failed_jobs_total{job="${RUNNER_JOB}",failure_reason!~"${JOB_CAUSED_FAILURES}"}[30m]))` +
        ` / sum(rate(gitlab_runner_jobs_total{job="${RUNNER_JOB}"}[30m])) > ${t.ciJobFailureRatio}`,
      for: "15m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `${c.value} of CI jobs fail because of the runners`,
      description: (c) =>
        `${c.value} of CI jobs failed over the last 30 minutes for reasons other than their own script or timeout ` +
        `(runner system failures, image pulls; threshold: ${percent(t.ciJobFailureRatio)} for 15m). ` +
        "Something in CI is broken: check the CI dashboard's failures by reason and the runner containers' logs.",
      tests: [
        {
          scenario: `${humanizePercentage(ci.above)} of jobs hit runner system failures`,
          series: [
            { series: 'gitlab_runner_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123"}', values: counter(10) },
            {
              series:
                'gitlab_runner_failed_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123",failure_reason="runner_system_failure"}',
              values: counter(10 * ci.above),
            },
          ],
          checks: [
            { at: "10m", firing: [] },
            { at: "45m", firing: [{ labels: {}, value: humanizePercentage(ci.above) }] },
          ],
        },
        {
          scenario: `half the jobs fail their own scripts, ${humanizePercentage(ci.below)} hit system failures`,
          series: [
            { series: 'gitlab_runner_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123"}', values: counter(10) },
            {
              series:
                'gitlab_runner_failed_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123",failure_reason="script_failure"}',
              values: counter(5),
            },
            {
              series:
                'gitlab_runner_failed_jobs_total{job="gitlab-runner",instance="gitlab-runner-build:9252",runner="abc123",failure_reason="runner_system_failure"}',
              values: counter(10 * ci.below),
            },
          ],
          checks: [{ at: "45m", firing: [] }],
        },
      ],
    };
  },
};
