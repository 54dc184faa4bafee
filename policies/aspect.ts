// The policies as a cdktf Aspect (the cdk-nag pattern): added to a stack, it validates the
// stack's resolved resources at synth, and synth fails listing every violation with the
// construct path, the rule and how to fix it.
import { TerraformStack, type IAspect } from "cdktf";
import type { IConstruct } from "constructs";
import { evaluatePolicies, type Suppression } from "./index";
import { stackView } from "./stack-view";
import type { PolicyContext } from "./types";

export class PolicyAspect implements IAspect {
  constructor(
    private readonly context: PolicyContext,
    private readonly suppressions: readonly Suppression[],
  ) {}

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const stack = node;
    stack.node.addValidation({
      validate: () => {
        const { violations, unused } = evaluatePolicies(stackView(stack.toTerraform(), this.context), this.suppressions);
        return [
          ...violations.map(
            (v) =>
              `${v.rule.id} at ${v.resource.path}: ${v.message}. (${v.rule.rationale}) To accept it, add to config policy.suppressions: { rule: ${v.rule.id}, path: ${v.resource.path}, reason: <why> }`,
          ),
          // A stale suppression would silently cover whatever later takes that path.
          ...unused.map(
            (s) => `policy.suppressions: { rule: ${s.rule}, path: ${s.path} } matches no violation (the resource is gone or renamed, or now passes): remove it`,
          ),
        ];
      },
    });
  }
}
