// Builds a StackView from a hand-written cdk.tf.json fragment, for rule tests.
import { stackView } from "../../policies/stack-view";
import type { PolicyContext, StackView } from "../../policies/types";

export function view(
  resource: Record<string, Record<string, Record<string, unknown>>>,
  gitSshPort = 22,
  context: Partial<PolicyContext> = {},
  output: Record<string, Record<string, unknown>> = {},
): StackView {
  const withPaths = Object.fromEntries(
    Object.entries(resource).map(([type, byName]) => [
      type,
      Object.fromEntries(Object.entries(byName).map(([name, config]) => [name, { "//": { metadata: { path: `test/${name}` } }, ...config }])),
    ]),
  );
  return stackView({ resource: withPaths, output }, { gitSshPort, ...context });
}
