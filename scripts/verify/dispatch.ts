// Sends each artifact to the checker for its kind. Files that are installed together (systemd
// units, rules and their unit tests) are checked per installation: the same resource and
// user data document.
import { availableParallelism } from "node:os";
import type { Artifact, Kind } from "./classify";
import {
  checkAlertmanager,
  checkCloudConfig,
  checkCrontab,
  checkIptablesRules,
  checkJson,
  checkLogrotate,
  checkPrometheusConfig,
  checkPrometheusRuleTests,
  checkPrometheusRules,
  checkRuby,
  checkShell,
  checkShellEnv,
  checkSshdConfig,
  checkSystemdUnits,
  checkToml,
  checkYaml,
} from "./checkers";
import { checkHelmValues, checkKubernetesManifest } from "./kubernetes-checkers";
import type { CheckResult } from "./result";

export interface Row {
  readonly origin: string;
  readonly tool: string;
  readonly status: CheckResult["status"] | "unchecked";
  readonly findings: readonly string[];
  readonly notes: readonly string[];
}

export function toRow(origin: string, r: CheckResult): Row {
  return { origin, tool: r.tool, status: r.status, findings: r.findings, notes: r.notes ?? [] };
}

/** "staging: aws_instance.x user_data → /etc/a.service" → "staging: aws_instance.x user_data". */
export function installation(a: Artifact): string {
  return a.origin.split(" → ")[0] ?? a.origin;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** Runs tasks with bounded parallelism (validators are processes; don't fork-bomb CI). */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit = Math.max(2, availableParallelism())): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Kinds checked one file at a time; the content and the file's target path as its label. */
const SINGLE: Partial<Record<Kind, (content: string, label: string) => Promise<CheckResult>>> = {
  "cloud-config": checkCloudConfig,
  shell: checkShell,
  "shell-env": checkShellEnv,
  ruby: checkRuby,
  toml: checkToml,
  "prometheus-config": checkPrometheusConfig,
  "prometheus-rules": checkPrometheusRules,
  alertmanager: checkAlertmanager,
  crontab: checkCrontab,
  yaml: checkYaml,
  json: checkJson,
  "kubernetes-manifest": checkKubernetesManifest,
  logrotate: checkLogrotate,
  "sshd-config": checkSshdConfig,
  iptables: checkIptablesRules,
};

export async function checkArtifacts(artifacts: readonly Artifact[]): Promise<Row[]> {
  const tasks: (() => Promise<Row[]>)[] = [];
  for (const a of artifacts) {
    const check = SINGLE[a.kind];
    if (check) tasks.push(async () => [toRow(a.origin, await check(a.content, a.path))]);
    if (a.kind === "helm-values") tasks.push(async () => [toRow(a.origin, await checkHelmValues(a.content, a.chart ?? { name: "", version: "" }, a.path))]);
    if (a.kind === "unchecked") tasks.push(async () => [{ origin: a.origin, tool: "-", status: "unchecked", findings: [], notes: [] }]);
  }
  for (const group of groupBy(artifacts, installation).values()) {
    // Drop-ins are verified with the unit they extend, so with the units installed beside them.
    const units = group.filter((a) => a.kind === "systemd" || a.kind === "systemd-dropin");
    if (units.length) {
      tasks.push(async () => {
        const results = await checkSystemdUnits(units);
        return units.map((u) => toRow(u.origin, results.get(u.path) ?? { tool: "systemd-analyze verify", status: "FAIL", findings: ["not checked"] }));
      });
    }
    const rules = group.filter((a) => a.kind === "prometheus-rules");
    for (const test of group.filter((a) => a.kind === "prometheus-rules-test")) {
      tasks.push(async () => [toRow(test.origin, await checkPrometheusRuleTests(test, rules))]);
    }
  }
  // Grouped checks finish out of order; report in extraction order so a file sits by its siblings.
  const order = new Map(artifacts.map((a, i) => [a.origin, i]));
  return (await pool(tasks)).flat().sort((x, y) => (order.get(x.origin) ?? 0) - (order.get(y.origin) ?? 0));
}
