import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { run } from "../../../scripts/verify/tools";
import {
  alertThresholds,
  DEFAULT_ALERT_THRESHOLDS,
  humanizeDuration,
  humanizePercentage,
  renderAlertRules,
  renderAlertRuleTests,
  type AlertThresholds,
} from "../../../userdata/monitoring/alert-rules";
import { GITLAB_ALERT_RULES, gitlabAlertRules } from "../../../userdata/monitoring/rules";
import { promtool, promtoolTest } from "../../support/promtool";

const THRESHOLDS = alertThresholds({ backupMaxAgeHours: 26 });
const rules = gitlabAlertRules(THRESHOLDS);

interface RenderedRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const rendered = (t: AlertThresholds = THRESHOLDS): Record<string, RenderedRule> =>
  Object.fromEntries((parse(renderAlertRules(gitlabAlertRules(t))).groups[0].rules as RenderedRule[]).map((r) => [r.alert, r]));

describe("alert rules", () => {
  it("are the rules of the list, in its order, and cover backlog, failure rates, saturation, disk, backups and targets", () => {
    expect(Object.keys(rendered())).toEqual(GITLAB_ALERT_RULES.map((d) => d.alert));
    expect(Object.keys(rendered())).toEqual(
      expect.arrayContaining([
        "GitLabTargetDown",
        "GitLabSidekiqQueueBacklog",
        "GitLabSidekiqJobFailureRate",
        "GitLabCiJobFailureRate",
        "GitLabPumaSaturated",
        "GitLabDiskSpaceLow",
        "GitLabDiskNearlyFull",
        "GitLabBackupTooOld",
        "GitLabBackupFailed",
        "GitLabBackupMissing",
        "GitLabBackupShareUnavailable",
        "GitLabBackupShareCheckStale",
      ]),
    );
  });

  it("are as many as the README says", () => {
    const readme = readFileSync(join(__dirname, "../../../README.md"), "utf8");
    const counts = [...readme.matchAll(/(\d+) alert rules/g)].map((m) => Number(m[1]));
    expect(counts.length, "README.md states the number of alert rules").toBeGreaterThan(0);
    for (const n of counts) expect(n, "the count of alert rules in README.md").toBe(GITLAB_ALERT_RULES.length);
  });

  it("have the expressions and thresholds the platform promises", () => {
    const r = rendered();
    expect(r.GitLabTargetDown).toMatchObject({ expr: "up == 0", for: "5m" });
    expect(r.GitLabSidekiqQueueBacklog).toMatchObject({ expr: 'sum(sidekiq_queue_size{job="gitlab-exporter"}) > 1000', for: "15m" });
    expect(r.GitLabSidekiqJobFailureRate!.expr).toBe(
      'sum(rate(sidekiq_jobs_failed_total{job="gitlab-sidekiq"}[15m])) / sum(rate(sidekiq_jobs_completion_seconds_count{job="gitlab-sidekiq"}[15m])) > 0.05',
    );
    expect(r.GitLabCiJobFailureRate!.expr).toContain('failure_reason!~"script_failure|job_execution_timeout|configuration_error|job_canceled"');
    expect(r.GitLabCiJobFailureRate!.expr).toMatch(/\/ sum\(rate\(gitlab_runner_jobs_total\{job="gitlab-runner"\}\[30m\]\)\) > 0\.1$/);
    expect(r.GitLabPumaSaturated!.expr).toBe(
      'sum by (instance) (puma_active_connections{job="gitlab-rails"}) / sum by (instance) (puma_max_threads{job="gitlab-rails"}) > 0.9',
    );
    expect(r.GitLabDiskSpaceLow!.expr).toMatch(/^node_filesystem_avail_bytes\{job="gitlab-node",fstype!~"tmpfs\|ramfs\|squashfs\|nsfs".*\} < 0\.15$/);
    expect(r.GitLabDiskNearlyFull!.expr).toMatch(/< 0\.05$/);
    // The backup job writes the gauge into GitLab's node_exporter textfile collector.
    expect(r.GitLabBackupTooOld!.expr).toBe('time() - max(gitlab_backup_last_success_timestamp_seconds{job="gitlab-node"}) > 93600');
    expect(r.GitLabBackupFailed).toMatchObject({ expr: 'gitlab_backup_last_status{job="gitlab-node"} == 0', for: "5m", labels: { severity: "critical" } });
    expect(r.GitLabBackupMissing!.expr).toBe('absent(gitlab_backup_last_success_timestamp_seconds{job="gitlab-node"})');
    // A missing NFS share alerts within minutes, not when the next backup is a day overdue.
    expect(r.GitLabBackupShareUnavailable).toMatchObject({
      expr: 'gitlab_backup_share_up{job="gitlab-node"} == 0',
      for: "10m",
      labels: { severity: "critical" },
    });
    expect(r.GitLabBackupShareCheckStale).toMatchObject({
      expr: 'time() - max(gitlab_backup_share_check_timestamp_seconds{job="gitlab-node"}) > 900 or absent(gitlab_backup_share_check_timestamp_seconds{job="gitlab-node"})',
      for: "5m",
      labels: { severity: "critical" },
    });
  });

  it("each have a severity, a summary and a description naming the threshold", () => {
    const thresholdText: Record<string, string> = {
      GitLabTargetDown: "up == 0 for 5m",
      GitLabSidekiqQueueBacklog: "1000 jobs",
      GitLabSidekiqJobFailureRate: "5%",
      GitLabCiJobFailureRate: "10%",
      GitLabPumaSaturated: "90%",
      GitLabDiskSpaceLow: "15%",
      GitLabDiskNearlyFull: "5%",
      GitLabBackupTooOld: "26 hours",
      GitLabBackupFailed: "gitlab_backup_last_status == 0 for 5m",
      GitLabBackupMissing: "30 minutes",
      GitLabBackupShareUnavailable: "gitlab_backup_share_up == 0 for 10m",
      GitLabBackupShareCheckStale: "15 minutes",
    };
    for (const rule of Object.values(rendered())) {
      expect(["warning", "critical"], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toContain(thresholdText[rule.alert]);
    }
  });

  it("take the backup age from config", () => {
    expect(rendered(alertThresholds({ backupMaxAgeHours: 50 })).GitLabBackupTooOld!.expr).toMatch(/> 180000$/);
  });

  it("each have a unit test where they fire and one where they do not", () => {
    const doc = parse(renderAlertRuleTests(rules, "gitlab.rules.yml"));
    for (const rule of rules) {
      const checks = (doc.tests as any[]).flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === rule.alert);
      expect(
        checks.some((c) => c.exp_alerts.length > 0),
        `${rule.alert} fires`,
      ).toBe(true);
      expect(
        checks.some((c) => c.exp_alerts.length === 0),
        `${rule.alert} stays quiet`,
      ).toBe(true);
    }
  });

  it("refuses a rule without both kinds of test", () => {
    const [first] = rules;
    const onlyFiring = { ...first!, tests: first!.tests.map((g) => ({ ...g, checks: g.checks.filter((c) => c.firing.length > 0) })) };
    expect(() => renderAlertRuleTests([onlyFiring], "r.yml")).toThrow("needs a unit test where it fires and one where it does not");
  });

  it("refuses thresholds no alert could use", () => {
    expect(() => alertThresholds({ backupMaxAgeHours: 26, pumaSaturationRatio: 90 })).toThrow("pumaSaturationRatio must be a ratio between 0 and 1");
    expect(() => alertThresholds({ backupMaxAgeHours: 26, diskFreeCriticalRatio: 0.2 })).toThrow("diskFreeCriticalRatio must be below diskFreeWarningRatio");
    expect(() => alertThresholds({ backupMaxAgeHours: 1.5 })).toThrow("backupMaxAgeHours must be a whole number of hours");
    expect(alertThresholds({ backupMaxAgeHours: 26 })).toEqual({ ...DEFAULT_ALERT_THRESHOLDS, backupMaxAgeHours: 26 });
  });

  it("format expected values the way Prometheus' template functions do", () => {
    expect(humanizePercentage(0.075)).toBe("7.5%");
    expect(humanizePercentage(0.15000000000000002)).toBe("15%");
    expect(humanizePercentage(0.9500000000000001)).toBe("95%");
    expect(humanizeDuration(98400)).toBe("1d 3h 20m 0s");
    expect(humanizeDuration(5400)).toBe("1h 30m 0s");
    expect(humanizeDuration(90)).toBe("1m 30s");
  });
});

const scratch = mkdtempSync(join(tmpdir(), "alert-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const testsFor = (t: AlertThresholds) => renderAlertRuleTests(gitlabAlertRules(t), "gitlab.rules.yml");
const rulesFor = (t: AlertThresholds) => renderAlertRules(gitlabAlertRules(t));
/** Only the unit tests of `alert` (against every rule): a broken rule shows there, in a fraction of the run. */
const testsOf = (alert: string, t: AlertThresholds) =>
  renderAlertRuleTests(
    gitlabAlertRules(t).filter((r) => r.alert === alert),
    "gitlab.rules.yml",
  );

// Missing promtool skips on a laptop and fails in CI (CI=true), like npm run verify.
describe.runIf(promtool !== undefined || process.env.CI === "true")("promtool", () => {
  it("accepts the rules (promtool check rules)", async () => {
    expect(promtool, "promtool is missing: run scripts/install-validators.sh").toBeDefined();
    const file = join(scratch, "gitlab.rules.yml");
    writeFileSync(file, rulesFor(THRESHOLDS));
    const r = await run(promtool as string, ["check", "rules", file]);
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${GITLAB_ALERT_RULES.length} rules found`);
    expect(r.code).toBe(0);
  });

  it("passes every alert's unit tests (promtool test rules)", async () => {
    expect(promtool, "promtool is missing: run scripts/install-validators.sh").toBeDefined();
    const r = await promtoolTest(scratch, "defaults", rulesFor(THRESHOLDS), testsFor(THRESHOLDS));
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("passes them for other thresholds too: the tests are built from the thresholds", async () => {
    const other = alertThresholds({
      backupMaxAgeHours: 336,
      sidekiqQueueBacklog: 7,
      sidekiqFailureRatio: 0.8,
      ciJobFailureRatio: 0.33,
      pumaSaturationRatio: 0.5,
      diskFreeWarningRatio: 0.3,
      diskFreeCriticalRatio: 0.01,
    });
    const r = await promtoolTest(scratch, "other", rulesFor(other), testsFor(other));
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("fails when a rule's threshold is wrong: the tests pin it", async () => {
    // Rules rendered with a failure-rate threshold of 10 % against tests written for 5 %: 7.5 % no longer fires.
    const r = await promtoolTest(
      scratch,
      "threshold",
      rulesFor({ ...THRESHOLDS, sidekiqFailureRatio: 0.1 }),
      testsOf("GitLabSidekiqJobFailureRate", THRESHOLDS),
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("FAILED");
    expect(r.output).toContain("alertname: GitLabSidekiqJobFailureRate");
    expect(r.output).toMatch(/got:\s*\[\]/);
  });

  it("fails when a rule's operator is wrong: exactly the threshold is not a backlog", async () => {
    const wrong = rulesFor(THRESHOLDS).replace(
      'sum(sidekiq_queue_size{job="gitlab-exporter"}) > 1000',
      'sum(sidekiq_queue_size{job="gitlab-exporter"}) >= 1000',
    );
    expect(wrong).not.toBe(rulesFor(THRESHOLDS));
    const r = await promtoolTest(scratch, "operator", wrong, testsOf("GitLabSidekiqQueueBacklog", THRESHOLDS));
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("alertname: GitLabSidekiqQueueBacklog");
  });

  it("fails when the disk alert stops ignoring tmpfs", async () => {
    const wrong = rulesFor(THRESHOLDS).replaceAll('fstype!~"tmpfs|ramfs|squashfs|nsfs",', "");
    const r = await promtoolTest(scratch, "tmpfs", wrong, testsOf("GitLabDiskSpaceLow", THRESHOLDS));
    expect(r.code).not.toBe(0);
    expect(r.output).toContain("alertname: GitLabDiskSpaceLow");
  });
});
