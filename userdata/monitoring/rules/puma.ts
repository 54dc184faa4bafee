// Puma, GitLab's web server: all its threads busy, so requests queue.
import { humanizePercentage, type AlertRuleDefinition } from "../alert-rules";
import { GITLAB_EXPORTERS } from "../prometheus-config";
import { around, gauge, percent } from "./inputs";

export const pumaSaturated: AlertRuleDefinition = {
  alert: "GitLabPumaSaturated",
  build: (t) => {
    const puma = around(t.pumaSaturationRatio);
    return {
      expr:
        `sum by (instance) (puma_active_connections{job="${GITLAB_EXPORTERS.rails.job}"})` +
        ` / sum by (instance) (puma_max_threads{job="${GITLAB_EXPORTERS.rails.job}"}) > ${t.pumaSaturationRatio}`,
      for: "15m",
      severity: "warning",
      valueFormat: "humanizePercentage",
      summary: (c) => `Puma on ${c.label("instance")} is ${c.value} busy`,
      description: (c) =>
        `${c.value} of Puma's threads on ${c.label("instance")} have been busy for 15 minutes (threshold: ${percent(t.pumaSaturationRatio)}). ` +
        "Requests queue and the web UI slows down: look for slow endpoints on the Web dashboard, or add Puma workers if memory allows.",
      tests: [
        {
          scenario: `two workers at ${humanizePercentage(puma.above)} of their threads`,
          series: [0, 1].flatMap((w) => [
            { series: `puma_max_threads{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10) },
            { series: `puma_active_connections{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10 * puma.above) },
          ]),
          checks: [
            { at: "10m", firing: [] },
            { at: "20m", firing: [{ labels: { instance: "gitlab:80" }, value: humanizePercentage(puma.above) }] },
          ],
        },
        {
          scenario: `two workers at ${humanizePercentage(puma.below)} of their threads`,
          series: [0, 1].flatMap((w) => [
            { series: `puma_max_threads{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10) },
            { series: `puma_active_connections{job="gitlab-rails",instance="gitlab:80",worker="puma_${w}"}`, values: gauge(10 * puma.below) },
          ]),
          checks: [{ at: "30m", firing: [] }],
        },
      ],
    };
  },
};
