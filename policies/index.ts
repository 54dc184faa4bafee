// Every policy rule, and the function that applies them (with suppressions) to a stack.
import { computeRules } from "./rules/aws-compute";
import { iamRules } from "./rules/aws-iam";
import { logRules } from "./rules/aws-logs";
import { networkRules } from "./rules/aws-network";
import { runnerWorkerRules } from "./rules/aws-runner-workers";
import { s3Rules } from "./rules/aws-s3";
import { dockerRules } from "./rules/docker";
import { gitlabRules } from "./rules/gitlab";
import { kubernetesRules } from "./rules/kubernetes";
import { statefulRules } from "./rules/stateful";
import type { Rule, StackView, Violation } from "./types";

export const RULES: readonly Rule[] = [
  ...computeRules,
  ...s3Rules,
  ...networkRules,
  ...runnerWorkerRules,
  ...iamRules,
  ...logRules,
  ...statefulRules,
  ...dockerRules,
  ...kubernetesRules,
  ...gitlabRules,
];

/** Every rule id, for config validation (policy.suppressions[].rule). */
export const RULE_IDS = RULES.map((r) => r.id) as [string, ...string[]];

/** A rule switched off for exactly one resource, with the reason recorded in config. */
export interface Suppression {
  readonly rule: string;
  /** Construct path of the resource, exactly as the violation prints it. */
  readonly path: string;
  readonly reason: string;
}

export interface PolicyResult {
  readonly violations: (Violation & { rule: Rule })[];
  /** Suppressions that matched no violation: the resource is gone, renamed, or now passes. */
  readonly unused: readonly Suppression[];
}

/**
 * The violations left after suppressions. A suppression names one resource: a construct
 * subtree or a whole stack cannot be waved through, so a new resource never inherits it.
 */
export function evaluatePolicies(stack: StackView, suppressions: readonly Suppression[], rules: readonly Rule[] = RULES): PolicyResult {
  const used = new Set<Suppression>();
  const violations = rules.flatMap((rule) =>
    rule
      .check(stack)
      .filter((v) => {
        const match = suppressions.find((s) => s.rule === rule.id && s.path === v.resource.path);
        if (match) used.add(match);
        return !match;
      })
      .map((v) => ({ ...v, rule })),
  );
  return { violations, unused: suppressions.filter((s) => !used.has(s)) };
}

export function findViolations(stack: StackView, suppressions: readonly Suppression[], rules: readonly Rule[] = RULES): (Violation & { rule: Rule })[] {
  return evaluatePolicies(stack, suppressions, rules).violations;
}
