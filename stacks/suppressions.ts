// Which of the environment's policy suppressions each of its stacks checks. A suppression
// names a construct path, whose first segment is the stack: each stack takes its own, and
// the first stack also takes those naming no stack of the environment, so that a stale one
// is still reported as matching nothing instead of being silently ignored.
import type { Environment } from "../config/load";
import type { Suppression } from "../policies/index";

/** The suppressions the stack named `stack` of `env` applies. */
export function stackSuppressions(env: Pick<Environment, "name" | "policy">, stack: string): Suppression[] {
  const content = `${env.name}-gitlab/`;
  const inContentStack = (s: Suppression) => s.path.startsWith(content);
  return env.policy.suppressions.filter((s) => (stack === env.name ? !inContentStack(s) : inContentStack(s)));
}
