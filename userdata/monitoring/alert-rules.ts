// GitLab's alert rules and their promtool unit tests, rendered from one typed model. Each
// alert carries its own tests: input series built from the thresholds, evaluation times, and
// the alerts expected then (none, or the exact labels and annotations). `promtool test rules`
// runs them, so a wrong threshold, operator or selector fails the build, not the pager.
//
// The rules themselves live one area per file in rules/ (rules/index.ts lists them); this file
// is the model they are written in and its rendering.
import { stringify } from "yaml";

export interface AlertThresholds {
  /** Jobs waiting in all Sidekiq queues together. @default 1000 */
  readonly sidekiqQueueBacklog: number;
  /** Share of Sidekiq jobs that fail, over 15 minutes. @default 0.05 */
  readonly sidekiqFailureRatio: number;
  /** Share of CI jobs that fail for reasons other than their own script or timeout, over 30 minutes. @default 0.1 */
  readonly ciJobFailureRatio: number;
  /** Busy Puma threads over all Puma threads. @default 0.9 */
  readonly pumaSaturationRatio: number;
  /** Free share of a filesystem below which it is low (warning). @default 0.15 */
  readonly diskFreeWarningRatio: number;
  /** Free share of a filesystem below which it is nearly full (critical). @default 0.05 */
  readonly diskFreeCriticalRatio: number;
  /** Hours since the last successful backup after which it is too old (config: backups.maxAgeHours). */
  readonly backupMaxAgeHours: number;
}

export const DEFAULT_ALERT_THRESHOLDS: Omit<AlertThresholds, "backupMaxAgeHours"> = {
  sidekiqQueueBacklog: 1000,
  sidekiqFailureRatio: 0.05,
  ciJobFailureRatio: 0.1,
  pumaSaturationRatio: 0.9,
  diskFreeWarningRatio: 0.15,
  diskFreeCriticalRatio: 0.05,
};

/** The thresholds with defaults applied, checked for values no alert could sensibly use. */
export function alertThresholds(t: Partial<AlertThresholds> & Pick<AlertThresholds, "backupMaxAgeHours">): AlertThresholds {
  const all: AlertThresholds = { ...DEFAULT_ALERT_THRESHOLDS, ...t };
  const ratios = ["sidekiqFailureRatio", "ciJobFailureRatio", "pumaSaturationRatio", "diskFreeWarningRatio", "diskFreeCriticalRatio"] as const;
  for (const key of ratios) {
    if (!(all[key] > 0 && all[key] < 1)) throw new Error(`alert threshold ${key} must be a ratio between 0 and 1 (exclusive), got ${all[key]}`);
  }
  if (!Number.isInteger(all.sidekiqQueueBacklog) || all.sidekiqQueueBacklog < 2) {
    throw new Error(`alert threshold sidekiqQueueBacklog must be a whole number of jobs (at least 2), got ${all.sidekiqQueueBacklog}`);
  }
  if (!Number.isInteger(all.backupMaxAgeHours) || all.backupMaxAgeHours < 2) {
    throw new Error(`alert threshold backupMaxAgeHours must be a whole number of hours (at least 2), got ${all.backupMaxAgeHours}`);
  }
  if (all.diskFreeCriticalRatio >= all.diskFreeWarningRatio) {
    throw new Error("alert threshold diskFreeCriticalRatio must be below diskFreeWarningRatio");
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// The model

export type Severity = "warning" | "critical";

/**
 * How annotation text refers to the alert's value and labels. Rendering the rule passes Go
 * template actions ({{ $value | … }}); rendering a unit test passes the text promtool must
 * see after Prometheus has expanded them. One function, so rule and test cannot drift apart.
 */
export interface TemplateContext {
  readonly value: string;
  label(name: string): string;
}

export interface InputSeries {
  /** Series selector with labels, e.g. `up{job="gitlab-node",instance="gitlab:9100"}`. */
  readonly series: string;
  /** promtool's expanding notation, e.g. '0+10x60' or '1x9 0x15'. */
  readonly values: string;
}

export interface ExpectedAlert {
  /** Labels of the firing alert besides alertname and severity. */
  readonly labels: Readonly<Record<string, string>>;
  /** What `{{ $value | <valueFormat> }}` renders to; required when the annotations use the value. */
  readonly value?: string;
}

export interface AlertCheck {
  /** Evaluation time from the start of the series, e.g. '20m'. */
  readonly at: string;
  /** The alerts firing then; empty: the alert must not fire (quiet or still pending). */
  readonly firing: readonly ExpectedAlert[];
}

export interface AlertTestGroup {
  /** What the scenario shows, e.g. 'a target down for longer than 5m'. */
  readonly scenario: string;
  /** Interval between input samples. @default '1m' */
  readonly interval?: string;
  readonly series: readonly InputSeries[];
  readonly checks: readonly AlertCheck[];
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: Severity;
  /** Go template pipeline formatting $value in annotations, e.g. 'humanizePercentage'. */
  readonly valueFormat?: string;
  readonly summary: (c: TemplateContext) => string;
  readonly description: (c: TemplateContext) => string;
  /** promtool unit tests: at least one check where it fires and one where it does not. */
  readonly tests: readonly AlertTestGroup[];
}

/**
 * One alert rule as its file exports it: the name, and the rule with its tests built from
 * what it depends on (the thresholds; on a cluster also the namespaces). The lists in
 * rules/index.ts hold these, so names and counts are known without building anything.
 */
export interface AlertRuleDefinition<Args extends readonly unknown[] = [AlertThresholds]> {
  readonly alert: string;
  readonly build: (...args: Args) => Omit<AlertRule, "alert">;
}

/** Builds each definition's rule, in the list's order. */
export function buildAlertRules<Args extends readonly unknown[]>(definitions: readonly AlertRuleDefinition<Args>[], ...args: Args): AlertRule[] {
  return definitions.map((d) => ({ alert: d.alert, ...d.build(...args) }));
}

// ---------------------------------------------------------------------------------------------
// Formatting shared by rule text and test expectations

/** Prometheus' humanizePercentage for ratios the tests use (Go's %.4g of value × 100). */
export function humanizePercentage(ratio: number): string {
  const percent = ratio * 100;
  if (!(percent >= 1e-4 && percent < 1e4)) throw new Error(`humanizePercentage: ${ratio} is outside the range the tests use`);
  return `${Number(percent.toPrecision(4))}%`;
}

/** Prometheus' humanizeDuration for whole numbers of seconds ≥ 60 (what the backup tests use). */
export function humanizeDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 60) throw new Error(`humanizeDuration: ${seconds} is outside the range the tests use`);
  const s = seconds % 60;
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600) % 24;
  const d = Math.floor(seconds / 86400);
  if (d) return `${d}d ${h}h ${m}m ${s}s`;
  if (h) return `${h}h ${m}m ${s}s`;
  return `${m}m ${s}s`;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const RULE_CONTEXT = (format: string | undefined): TemplateContext => ({
  value: format ? `{{ $value | ${format} }}` : "{{ $value }}",
  label: (name) => `{{ $labels.${name} }}`,
});

function expectedContext(rule: AlertRule, expected: ExpectedAlert): TemplateContext {
  return {
    get value() {
      if (expected.value === undefined) throw new Error(`a unit test of ${rule.alert} must give the expected value: its annotations use it`);
      return expected.value;
    },
    label: (name) => {
      const v = expected.labels[name];
      if (v === undefined) throw new Error(`a unit test of ${rule.alert} must give label '${name}': its annotations use it`);
      return v;
    },
  };
}

export const RULE_GROUP = "gitlab";

export function renderAlertRules(rules: readonly AlertRule[]): string {
  const names = new Set(rules.map((r) => r.alert));
  if (names.size !== rules.length) throw new Error("alert names must be unique");
  const doc = {
    groups: [
      {
        name: RULE_GROUP,
        rules: rules.map((r) => {
          const c = RULE_CONTEXT(r.valueFormat);
          return {
            alert: r.alert,
            expr: r.expr,
            for: r.for,
            labels: { severity: r.severity },
            annotations: { summary: r.summary(c), description: r.description(c) },
          };
        }),
      },
    ],
  };
  return `# Generated by gitlab-platform (userdata/monitoring/alert-rules.ts). Unit tests: gitlab.rules.test.yml.\n${stringify(doc, { lineWidth: 0 })}`;
}

/** `promtool test rules` input for the rules; `ruleFile` as the test file refers to it (absolute, or relative to the test file). */
export function renderAlertRuleTests(rules: readonly AlertRule[], ruleFile: string): string {
  const tests = rules.flatMap((rule) => {
    const fires = rule.tests.some((g) => g.checks.some((c) => c.firing.length > 0));
    const quiet = rule.tests.some((g) => g.checks.some((c) => c.firing.length === 0));
    if (!fires || !quiet) throw new Error(`alert ${rule.alert} needs a unit test where it fires and one where it does not`);
    return rule.tests.map((group) => ({
      name: `${rule.alert}: ${group.scenario}`,
      interval: group.interval ?? "1m",
      input_series: group.series.map((s) => ({ series: s.series, values: s.values })),
      alert_rule_test: group.checks.map((check) => ({
        eval_time: check.at,
        alertname: rule.alert,
        exp_alerts: check.firing.map((expected) => {
          const c = expectedContext(rule, expected);
          return {
            exp_labels: { severity: rule.severity, ...expected.labels },
            exp_annotations: { summary: rule.summary(c), description: rule.description(c) },
          };
        }),
      })),
    }));
  });
  const doc = { rule_files: [ruleFile], evaluation_interval: "1m", tests };
  return `# Generated by gitlab-platform (userdata/monitoring/alert-rules.ts): promtool test rules <this file>.\n${stringify(doc, { lineWidth: 0 })}`;
}
