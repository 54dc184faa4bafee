// The kubernetes platform's alert rules: the docker platform's GitLab rules scoped to GitLab's
// namespaces, plus backup and volume rules from kube-state-metrics and the kubelet, every one
// with promtool unit tests that fire and stay quiet.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { alertThresholds, renderAlertRules, renderAlertRuleTests } from "../../../userdata/monitoring/alert-rules";
import { gitlabAlertRules, KUBERNETES_ALERT_RULES, kubernetesAlertRules, SHARED_RULES } from "../../../userdata/monitoring/rules";
import { scopeExpression, scopeSeries } from "../../../userdata/monitoring/promql-scope";
import { promtool, promtoolTest } from "../../support/promtool";

const THRESHOLDS = alertThresholds({ backupMaxAgeHours: 26 });
const SCOPE = { namespace: "gitlab", runnerNamespace: "gitlab-runner", backupCronJobs: ["gitlab-toolbox-backup", "gitlab-secrets-export"] };
const rules = kubernetesAlertRules(THRESHOLDS, SCOPE);

describe("scopeExpression", () => {
  const m = 'namespace=~"gitlab|gitlab-runner"';
  it.each([
    ["up == 0", `up{${m}} == 0`],
    ['sum(sidekiq_queue_size{job="gitlab-exporter"}) > 1000', `sum(sidekiq_queue_size{${m},job="gitlab-exporter"}) > 1000`],
    [
      'sum(rate(x_total{job="a",r!~"b|c"}[15m])) / sum(rate(y{job="a"}[15m])) > 0.05',
      `sum(rate(x_total{${m},job="a",r!~"b|c"}[15m])) / sum(rate(y{${m},job="a"}[15m])) > 0.05`,
    ],
    [
      'sum by (instance) (puma_active_connections{job="r"}) / sum by (instance) (puma_max_threads{job="r"}) > 0.9',
      `sum by (instance) (puma_active_connections{${m},job="r"}) / sum by (instance) (puma_max_threads{${m},job="r"}) > 0.9`,
    ],
    ["time() - max(a{}) > 3600", `time() - max(a{${m}}) > 3600`],
    ['(a > 1) unless on (namespace, cronjob) b{x="}{"}', `(a{${m}} > 1) unless on (namespace, cronjob) b{${m},x="}{"}`],
  ])("%s", (expr, expected) => {
    expect(scopeExpression(expr, m)).toBe(expected);
  });

  it("adds labels to test series, with or without braces", () => {
    expect(scopeSeries('up{job="x"}', { namespace: "gitlab" })).toBe('up{job="x",namespace="gitlab"}');
    expect(scopeSeries("up", { namespace: "gitlab" })).toBe('up{namespace="gitlab"}');
  });
});

describe("kubernetes alert rules", () => {
  it("are the docker platform's GitLab rules plus backup and volume rules", () => {
    const shared = SHARED_RULES.map((d) => d.alert);
    expect(rules.map((r) => r.alert)).toEqual(KUBERNETES_ALERT_RULES.map((d) => d.alert));
    expect(rules.map((r) => r.alert)).toEqual([...shared, "GitLabBackupTooOld", "GitLabBackupMissing", "GitLabDiskSpaceLow", "GitLabDiskNearlyFull"]);
    // The shared ones are the same rules, only scoped: same thresholds, annotations and severity.
    const docker = Object.fromEntries(gitlabAlertRules(THRESHOLDS).map((r) => [r.alert, r]));
    for (const name of shared) {
      const r = rules.find((x) => x.alert === name)!;
      expect(r.expr).toBe(scopeExpression(docker[name]!.expr, 'namespace=~"gitlab|gitlab-runner"'));
      expect([r.for, r.severity]).toEqual([docker[name]!.for, docker[name]!.severity]);
    }
  });

  it("select nothing outside GitLab's namespaces: every selector names the namespace", () => {
    const groups = parse(renderAlertRules(rules)).groups[0].rules as { alert: string; expr: string }[];
    for (const r of groups) {
      const selectors = r.expr.match(/[a-z_:]+\{[^}]*\}/g) ?? [];
      expect(selectors.length, r.alert).toBeGreaterThan(0);
      for (const s of selectors) expect(s, r.alert).toMatch(/namespace(=~|=)"gitlab/);
    }
    expect(groups.find((r) => r.alert === "GitLabTargetDown")!.expr).toBe('up{namespace=~"gitlab|gitlab-runner"} == 0');
  });
});

const scratch = mkdtempSync(join(tmpdir(), "k8s-alert-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Missing promtool skips on a laptop and fails in CI (CI=true), like npm run verify.
describe.runIf(promtool !== undefined || process.env.CI === "true")("promtool", () => {
  it("accepts the rules and passes every alert's unit tests", async () => {
    expect(promtool, "promtool is missing: run scripts/install-validators.sh").toBeDefined();
    const r = await promtoolTest(scratch, "defaults", renderAlertRules(rules), renderAlertRuleTests(rules, "gitlab.rules.yml"));
    expect(r.output).toContain("SUCCESS");
    expect(r.code, r.output).toBe(0);
  });

  it("passes them for other thresholds and namespaces too", async () => {
    const t = alertThresholds({ backupMaxAgeHours: 72, diskFreeWarningRatio: 0.3, diskFreeCriticalRatio: 0.02, pumaSaturationRatio: 0.5 });
    const other = kubernetesAlertRules(t, { namespace: "git", runnerNamespace: "ci", backupCronJobs: ["gitlab-toolbox-backup"] });
    const r = await promtoolTest(scratch, "other", renderAlertRules(other), renderAlertRuleTests(other, "gitlab.rules.yml"));
    expect(r.code, r.output).toBe(0);
  });

  it("a target down in another namespace does not fire; it would without the scope", async () => {
    const scoped = rules.find((r) => r.alert === "GitLabTargetDown")!;
    const elsewhere = {
      scenario: "Grafana's target down in the monitoring namespace",
      series: [{ series: 'up{job="grafana",instance="grafana:3000",namespace="monitoring"}', values: "0x30" }],
      checks: [{ at: "20m", firing: [] }],
    };
    const withElsewhere = { ...scoped, tests: [...scoped.tests, elsewhere] };
    const tests = renderAlertRuleTests([withElsewhere], "gitlab.rules.yml");
    const pass = await promtoolTest(scratch, "scoped", renderAlertRules([withElsewhere]), tests);
    expect(pass.code, pass.output).toBe(0);
    const unscoped = { ...withElsewhere, expr: gitlabAlertRules(THRESHOLDS).find((r) => r.alert === "GitLabTargetDown")!.expr };
    const fail = await promtoolTest(scratch, "unscoped", renderAlertRules([unscoped]), tests);
    expect(fail.code).not.toBe(0);
    expect(fail.output).toContain("grafana:3000");
  });
});
