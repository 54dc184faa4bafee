import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findTool, run } from "../../../scripts/verify/tools";
import { GITLAB_EXPORTERS, platformScrapeJobs, renderPrometheusConfig, type PlatformTargets } from "../../../userdata/monitoring/prometheus-config";

const TARGETS: PlatformTargets = {
  gitlabHost: "gitlab",
  postgres: true,
  registry: true,
  runnerTargets: ["gitlab-runner-build:9252", "gitlab-runner-deploy:9252"],
  alertmanager: "alertmanager:9093",
  grafana: "grafana:3000",
};

const render = (targets: PlatformTargets = TARGETS) =>
  renderPrometheusConfig({ ruleFiles: ["/etc/prometheus/rules/gitlab.rules.yml"], alertmanagers: ["alertmanager:9093"], jobs: platformScrapeJobs(targets) });

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs: { targets: string[] }[];
}

const jobs = (text: string): Record<string, { path: string; targets: string[] }> =>
  Object.fromEntries(
    (parse(text).scrape_configs as ScrapeConfig[]).map((j) => [
      j.job_name,
      { path: j.metrics_path ?? "/metrics", targets: j.static_configs.flatMap((s) => s.targets) },
    ]),
  );

describe("prometheus.yml", () => {
  it("scrapes every GitLab exporter where gitlab.rb opens it, one job each", () => {
    expect(jobs(render())).toEqual({
      prometheus: { path: "/metrics", targets: ["localhost:9090"] },
      alertmanager: { path: "/metrics", targets: ["alertmanager:9093"] },
      grafana: { path: "/metrics", targets: ["grafana:3000"] },
      "gitlab-rails": { path: "/-/metrics", targets: ["gitlab:80"] },
      "gitlab-workhorse": { path: "/metrics", targets: ["gitlab:9229"] },
      "gitlab-sidekiq": { path: "/metrics", targets: ["gitlab:8082"] },
      "gitlab-exporter": { path: "/metrics", targets: ["gitlab:9168"] },
      "gitlab-node": { path: "/metrics", targets: ["gitlab:9100"] },
      "gitlab-redis": { path: "/metrics", targets: ["gitlab:9121"] },
      "gitlab-postgres": { path: "/metrics", targets: ["gitlab:9187"] },
      "gitlab-registry": { path: "/metrics", targets: ["gitlab:5001"] },
      "gitlab-runner": { path: "/metrics", targets: ["gitlab-runner-build:9252", "gitlab-runner-deploy:9252"] },
    });
  });

  it("reads Rails metrics over HTTPS by GitLab's web host name when the proxy owns that name", () => {
    const config = parse(render({ ...TARGETS, gitlabWebHost: "gitlab.example.com" }));
    const rails = config.scrape_configs.find((j: ScrapeConfig) => j.job_name === "gitlab-rails");
    expect(rails).toEqual({ job_name: "gitlab-rails", scheme: "https", metrics_path: "/-/metrics", static_configs: [{ targets: ["gitlab.example.com:443"] }] });
    // Everything else stays on the GitLab container over plain HTTP.
    expect(config.scrape_configs.filter((j: any) => j.scheme).map((j: ScrapeConfig) => j.job_name)).toEqual(["gitlab-rails"]);
  });

  it("uses the ports gitlab.rb sets with exportersOnAllInterfaces", () => {
    // userdata/gitlab-rb.ts monitoring(): node 9100, redis 9121, postgres 9187, gitlab-exporter 9168,
    // workhorse 9229, registry debug 5001; Sidekiq's exporter keeps its default port 8082.
    expect(Object.fromEntries(Object.values(GITLAB_EXPORTERS).map((e) => [e.job, e.port]))).toEqual({
      "gitlab-rails": 80,
      "gitlab-workhorse": 9229,
      "gitlab-sidekiq": 8082,
      "gitlab-exporter": 9168,
      "gitlab-node": 9100,
      "gitlab-redis": 9121,
      "gitlab-postgres": 9187,
      "gitlab-registry": 5001,
    });
  });

  it("leaves out exporters that do not run: external database, no registry, no runners", () => {
    const names = Object.keys(jobs(render({ ...TARGETS, postgres: false, registry: false, runnerTargets: [] })));
    expect(names).not.toContain("gitlab-postgres");
    expect(names).not.toContain("gitlab-registry");
    expect(names).not.toContain("gitlab-runner");
    expect(names).toContain("gitlab-node");
  });

  it("loads the rules file (never its unit tests) and sends alerts to Alertmanager", () => {
    const doc = parse(render());
    expect(doc.rule_files).toEqual(["/etc/prometheus/rules/gitlab.rules.yml"]);
    expect(doc.alerting.alertmanagers).toEqual([{ static_configs: [{ targets: ["alertmanager:9093"] }] }]);
    expect(doc.global).toEqual({ scrape_interval: "30s", evaluation_interval: "30s" });
  });

  it("refuses duplicate jobs and malformed targets", () => {
    expect(() =>
      renderPrometheusConfig({
        ruleFiles: [],
        alertmanagers: [],
        jobs: [
          { name: "a", targets: ["x:1"] },
          { name: "a", targets: ["y:1"] },
        ],
      }),
    ).toThrow("scrape job 'a' is defined twice");
    expect(() => renderPrometheusConfig({ ruleFiles: [], alertmanagers: [], jobs: [{ name: "a", targets: ["http://x:1"] }] })).toThrow("must be host:port");
    expect(() => renderPrometheusConfig({ ruleFiles: [], alertmanagers: [], jobs: [{ name: "a", targets: [] }] })).toThrow("has no targets");
  });
});

const promtool = findTool("promtool");
const scratch = mkdtempSync(join(tmpdir(), "prometheus-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Missing promtool skips on a laptop and fails in CI (CI=true), like npm run verify.
describe.runIf(promtool !== undefined || process.env.CI === "true")("promtool check config", () => {
  it("accepts the rendered prometheus.yml", async () => {
    expect(promtool, "promtool is missing: run scripts/install-validators.sh").toBeDefined();
    const file = join(scratch, "prometheus.yml");
    writeFileSync(file, render());
    const r = await run(promtool as string, ["check", "config", "--syntax-only", file]);
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });
});
