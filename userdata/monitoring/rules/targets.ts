// Every scrape target: a component whose metrics Prometheus cannot read is down or cut off.
import type { AlertRuleDefinition } from "../alert-rules";

export const targetDown: AlertRuleDefinition = {
  alert: "GitLabTargetDown",
  build: () => ({
    expr: "up == 0",
    for: "5m",
    severity: "critical",
    summary: (c) => `${c.label("job")} target ${c.label("instance")} is down`,
    description: (c) =>
      `Prometheus could not scrape ${c.label("instance")} (job ${c.label("job")}) for 5 minutes (threshold: up == 0 for 5m). ` +
      "The component is down, or its metrics listener or the private network is broken.",
    tests: [
      {
        scenario: "Sidekiq's exporter stops answering at 10m; another target stays up",
        series: [
          { series: 'up{job="gitlab-sidekiq",instance="gitlab:8082"}', values: "1x9 0x20" },
          { series: 'up{job="gitlab-node",instance="gitlab:9100"}', values: "1x30" },
        ],
        checks: [
          { at: "5m", firing: [] },
          { at: "12m", firing: [] },
          { at: "17m", firing: [{ labels: { job: "gitlab-sidekiq", instance: "gitlab:8082" } }] },
        ],
      },
    ],
  }),
};
