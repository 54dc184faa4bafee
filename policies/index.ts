// Every policy rule, and the function that applies them (with suppressions) to a stack.
import { computeRules } from "./rules/aws-compute";
import { iamRules } from "./rules/aws-iam";
import { logRules } from "./rules/aws-logs";
import { networkRules } from "./rules/aws-network";
import { s3Rules } from "./rules/aws-s3";
import { dockerRules } from "./rules/docker";
import { statefulRules } from "./rules/stateful";
import type { Rule, StackView, Violation } from "./types";

export const RULES: readonly Rule[] = [...computeRules, ...s3Rules, ...networkRules, ...iamRules, ...logRules, ...statefulRules, ...dockerRules];

/** A rule switched off for one resource (or a construct subtree), with the reason recorded in config. */
export interface Suppression {
  readonly rule: string;
  /** Construct path of the resource, or of a construct containing it. */
  readonly path: string;
  readonly reason: string;
}

export function findViolations(stack: StackView, suppressions: readonly Suppression[], rules: readonly Rule[] = RULES): (Violation & { rule: Rule })[] {
  const suppressed = (rule: Rule, path: string) =>
    suppressions.some((s) => s.rule === rule.id && (path === s.path || path.startsWith(`${s.path}/`)));
  return rules.flatMap((rule) =>
    rule
      .check(stack)
      .filter((v) => !suppressed(rule, v.resource.path))
      .map((v) => ({ ...v, rule })),
  );
}
