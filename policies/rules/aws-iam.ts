// IAM: no wildcard actions; a wildcard resource only for actions AWS cannot scope, each
// with its reason here, and only when a condition narrows it where one exists.
import type { ResourceView, Rule, Violation } from "../types";

/** Actions that do not support resource-level permissions, and why "*" is acceptable. */
export const ACTIONS_REQUIRING_ANY_RESOURCE: Readonly<Record<string, string>> = {
  "cloudwatch:PutMetricData": "no resource-level permissions; scope it with a cloudwatch:namespace condition",
  "ec2:DescribeTags": "Describe* calls have no resource-level permissions (CloudWatch agent)",
  "ec2:DescribeVolumes": "Describe* calls have no resource-level permissions (CloudWatch agent)",
  "ec2:DescribeInstances": "Describe* calls have no resource-level permissions",
};

/** Actions whose "*" resource is only acceptable with a condition. */
const NEEDS_CONDITION = new Set(["cloudwatch:PutMetricData"]);

function statements(policy: unknown): any[] {
  try {
    const doc = JSON.parse(String(policy)) as { Statement?: any };
    return [doc.Statement ?? []].flat();
  } catch {
    return [];
  }
}

function policies(stack: Parameters<Rule["check"]>[0]): { resource: ResourceView; statement: any }[] {
  const docs = [
    ...stack.ofType("aws_iam_role_policy").map((r) => ({ resource: r, policy: r.config.policy })),
    ...stack.ofType("aws_iam_policy").map((r) => ({ resource: r, policy: r.config.policy })),
  ];
  return docs.flatMap(({ resource, policy }) => statements(policy).map((statement) => ({ resource, statement })));
}

const wildcardAction: Rule = {
  id: "AWS-IAM-WILDCARD-ACTION",
  rationale: "A wildcard action grants every future API of a service; name the actions the workload calls.",
  check: (stack) =>
    policies(stack)
      .filter(({ statement }) => statement.Effect === "Allow")
      .flatMap(({ resource, statement }): Violation[] =>
        [statement.Action]
          .flat()
          .filter((a: string) => a === "*" || a.endsWith(":*"))
          .map((a: string) => ({ resource, message: `action "${a}" in statement ${statement.Sid ?? "(no Sid)"}: list the actions needed instead` })),
      ),
};

const wildcardResource: Rule = {
  id: "AWS-IAM-WILDCARD-RESOURCE",
  rationale: "Resource \"*\" reaches every bucket, secret and log group in the account, not just this environment's.",
  check: (stack) =>
    policies(stack)
      .filter(({ statement }) => statement.Effect === "Allow" && [statement.Resource].flat().includes("*"))
      .flatMap(({ resource, statement }): Violation[] => {
        const actions: string[] = [statement.Action].flat();
        const unjustified = actions.filter((a) => !(a in ACTIONS_REQUIRING_ANY_RESOURCE));
        if (unjustified.length > 0) {
          return [{ resource, message: `resource "*" for ${unjustified.join(", ")} in statement ${statement.Sid ?? "(no Sid)"}: scope it to this environment's ARNs` }];
        }
        if (actions.some((a) => NEEDS_CONDITION.has(a)) && !statement.Condition) {
          return [{ resource, message: `statement ${statement.Sid ?? "(no Sid)"}: add a condition (${ACTIONS_REQUIRING_ANY_RESOURCE["cloudwatch:PutMetricData"]})` }];
        }
        return [];
      }),
};

export const iamRules = [wildcardAction, wildcardResource];
