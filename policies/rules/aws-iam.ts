// IAM: no wildcard actions; a wildcard resource only for actions AWS cannot scope, each
// with its reason here, and only when a condition narrows it where one exists; managed
// policies only from an allow-list, each with its reason, on the roles it is meant for.
import type { ResourceView, Rule, StackView, Violation } from "../types";

/** Actions that do not support resource-level permissions, and why "*" is acceptable. */
export const ACTIONS_REQUIRING_ANY_RESOURCE: Readonly<Record<string, string>> = {
  "cloudwatch:PutMetricData": "no resource-level permissions; scope it with a cloudwatch:namespace condition",
  "ec2:DescribeTags": "Describe* calls have no resource-level permissions (CloudWatch agent)",
  "ec2:DescribeVolumes": "Describe* calls have no resource-level permissions (CloudWatch agent)",
  "ec2:DescribeInstances": "Describe* calls have no resource-level permissions",
  // The fleeting plugin for AWS on the runner manager (scaling: jobs): it reads its worker group.
  "autoscaling:DescribeAutoScalingGroups": "Describe* calls have no resource-level permissions (the runner manager's fleeting plugin reads its worker group)",
  "autoscaling:DescribeAutoScalingInstances": "Describe* calls have no resource-level permissions (the runner manager's fleeting plugin lists its workers)",
  "ec2-instance-connect:SendSSHPublicKey":
    "the worker group launches its instances at any time, so no ARN can name them in advance; scope it to the group's instances with a condition on their aws:autoscaling:groupName tag",
  // Session Manager, as AWS's custom instance profile for it grants them (constructs/session-manager.ts).
  "ssm:UpdateInstanceInformation": "the SSM agent registers its own instance; no condition names the calling instance, and AWS grants it on *",
  "ssmmessages:CreateControlChannel": "Session Manager's channels have no resource-level permissions",
  "ssmmessages:CreateDataChannel": "Session Manager's channels have no resource-level permissions",
  "ssmmessages:OpenControlChannel": "Session Manager's channels have no resource-level permissions",
  "ssmmessages:OpenDataChannel": "Session Manager's channels have no resource-level permissions",
};

/** Actions whose "*" resource is only acceptable with a condition on this key. */
const NEEDS_CONDITION: Readonly<Record<string, string>> = {
  "cloudwatch:PutMetricData": "cloudwatch:namespace",
  "ec2-instance-connect:SendSSHPublicKey": "ec2:ResourceTag/aws:autoscaling:groupName",
};

/**
 * The AWS managed policies a role may have, why, and which service principals the role must
 * trust (the policy is broad, so it goes only to the identity it was written for). Not
 * AmazonSSMManagedInstanceCore: it reads every SSM parameter in the account; the instance
 * roles get Session Manager's own actions inline (constructs/session-manager.ts).
 */
export const ALLOWED_MANAGED_POLICIES: Readonly<Record<string, { readonly reason: string; readonly assumedBy: readonly string[] }>> = {
  "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole": {
    reason: "DLM's own service role, to create and expire the data volume's EBS snapshots",
    assumedBy: ["dlm.amazonaws.com"],
  },
};

const lower = (s: unknown) => String(s).toLowerCase();
const ANY_RESOURCE = new Map(Object.keys(ACTIONS_REQUIRING_ANY_RESOURCE).map((a) => [lower(a), a]));
const CONDITION_KEY = new Map(Object.entries(NEEDS_CONDITION).map(([a, key]) => [lower(a), key]));

type Doc = { statements: any[] } | undefined;

/** The statements of a policy document, or undefined when it is not JSON the rules can read. */
function parse(policy: unknown): Doc {
  try {
    const doc = JSON.parse(String(policy)) as { Statement?: any };
    if (typeof doc !== "object" || doc === null) return undefined;
    return { statements: [doc.Statement ?? []].flat() };
  } catch {
    return undefined;
  }
}

/** Every identity policy document in the stack, with the resource that carries it. */
function documents(stack: StackView): { resource: ResourceView; policy: unknown }[] {
  const own = ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"].flatMap((type) =>
    stack.ofType(type).map((r) => ({ resource: r, policy: r.config.policy })),
  );
  const inline = stack.ofType("aws_iam_role").flatMap((role) =>
    [role.config.inline_policy ?? []]
      .flat()
      .filter((block: any) => block?.policy !== undefined)
      .map((block: any) => ({ resource: role, policy: block.policy })),
  );
  return [...own, ...inline];
}

function policies(stack: StackView): { resource: ResourceView; statement: any }[] {
  return documents(stack).flatMap(({ resource, policy }) => (parse(policy)?.statements ?? []).map((statement) => ({ resource, statement })));
}

const sid = (statement: any) => statement.Sid ?? "(no Sid)";
const list = (v: unknown): string[] => [v ?? []].flat().map(String);
/** A wildcard in an action or ARN: IAM matches both * and ?. */
const hasWildcard = (s: string) => /[*?]/.test(s);

/** "*", or an ARN whose resource part names nothing: arn:aws:s3:::*, arn:…:secret:*, arn:…:role/* */
export function isWildcardResource(resource: string): boolean {
  if (resource === "*") return true;
  // References resolve to one resource; a placeholder keeps any ':' inside them from splitting.
  const arn = resource.replace(/\$\{[^}]*\}/g, "X");
  if (!arn.startsWith("arn:")) return false;
  const parts = arn.split(":");
  if (parts.length < 6) return false;
  const service = parts[2];
  const name = parts.slice(5).join(":");
  const onlyWildcards = (s: string) => s.length > 0 && /^[*?/:]+$/.test(s);
  if (onlyWildcards(name)) return true;
  // S3 has no resource-type prefix: `bucket/*` is the objects of one bucket.
  if (service === "s3") return false;
  // `secret:*`, `log-group:*`, `role/*`: every resource of that type in the account.
  const typed = /^[A-Za-z0-9-]+[:/](.*)$/.exec(name);
  return typed !== null && onlyWildcards(typed[1]!);
}

const wildcardAction: Rule = {
  id: "AWS-IAM-WILDCARD-ACTION",
  rationale: "A wildcard action grants every future API of a service; name the actions the workload calls.",
  check: (stack) => [
    ...documents(stack)
      .filter(({ policy }) => parse(policy) === undefined)
      .map(({ resource }) => ({
        resource,
        message: "policy is not a JSON document the rules can read (a reference or a data source): build it with JSON.stringify so it is checked",
      })),
    ...policies(stack)
      .filter(({ statement }) => statement.Effect === "Allow")
      .flatMap(({ resource, statement }): Violation[] => [
        ...(statement.NotAction !== undefined
          ? [
              {
                resource,
                message: `NotAction in Allow statement ${sid(statement)} grants every action except those listed: list the actions needed in Action instead`,
              },
            ]
          : []),
        ...list(statement.Action)
          .filter(hasWildcard)
          .map((a) => ({ resource, message: `action "${a}" in statement ${sid(statement)}: list the actions needed instead` })),
      ]),
  ],
};

const wildcardResource: Rule = {
  id: "AWS-IAM-WILDCARD-RESOURCE",
  rationale: 'Resource "*" reaches every bucket, secret and log group in the account, not just this environment\'s.',
  check: (stack) =>
    policies(stack)
      .filter(({ statement }) => statement.Effect === "Allow")
      .flatMap(({ resource, statement }): Violation[] => {
        if (statement.NotResource !== undefined) {
          return [
            {
              resource,
              message: `NotResource in Allow statement ${sid(statement)} reaches every resource except those listed: name the resources in Resource instead`,
            },
          ];
        }
        const wildcards = list(statement.Resource).filter(isWildcardResource);
        if (wildcards.length === 0) return [];
        const shown = wildcards.map((w) => `"${w}"`).join(", ");
        const actions = statement.NotAction !== undefined ? ["NotAction"] : list(statement.Action);
        const unjustified = actions.filter((a) => !ANY_RESOURCE.has(lower(a)));
        if (unjustified.length > 0) {
          return [{ resource, message: `resource ${shown} for ${unjustified.join(", ")} in statement ${sid(statement)}: scope it to this environment's ARNs` }];
        }
        const keys = Object.values(statement.Condition ?? {}).flatMap((byKey: any) => Object.keys(byKey ?? {}).map(lower));
        return actions
          .map((a) => ANY_RESOURCE.get(lower(a))!)
          .filter((a, i, all) => all.indexOf(a) === i && CONDITION_KEY.has(lower(a)) && !keys.includes(lower(CONDITION_KEY.get(lower(a)))))
          .map((a) => ({
            resource,
            message: `statement ${sid(statement)}: add a condition on ${CONDITION_KEY.get(lower(a))} (${a}: ${ACTIONS_REQUIRING_ANY_RESOURCE[a]})`,
          }));
      }),
};

/** The allow-list entry for an AWS managed policy ARN in any partition. */
function allowListed(arn: string) {
  const m = /^arn:[^:]+:iam::aws:policy\/(.+)$/.exec(arn);
  return m ? ALLOWED_MANAGED_POLICIES[`arn:aws:iam::aws:policy/${m[1]}`] : undefined;
}

/** The principals a role's trust policy admits ("Service:x", "AWS:y", …), or undefined if unreadable. */
function trustedBy(role: ResourceView): string[] | undefined {
  const doc = parse(role.config.assume_role_policy);
  if (!doc) return undefined;
  return doc.statements
    .filter((s) => s.Effect === "Allow")
    .flatMap((s) =>
      typeof s.Principal === "object" && s.Principal !== null
        ? Object.entries(s.Principal).flatMap(([kind, ids]) => list(ids).map((id) => (kind === "Service" ? id : `${kind}:${id}`)))
        : [`*:${String(s.Principal)}`],
    );
}

/**
 * What is wrong with giving `policyArn` to `role` (a role in this stack, or undefined when the
 * attachment names a role the stack does not define, a user or a group), or undefined if fine.
 */
function managedPolicyProblem(stack: StackView, policyArn: unknown, role: ResourceView | undefined, holder: string): string | undefined {
  // A policy created in this stack: its document is checked by the wildcard rules.
  if (stack.referenced(policyArn)?.type === "aws_iam_policy") return undefined;
  const arn = String(policyArn);
  const allowed = allowListed(arn);
  if (!allowed) {
    return /^arn:[^:]+:iam::aws:policy\//.test(arn)
      ? `AWS managed policy "${arn}" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed`
      : `policy "${arn}" is not an aws_iam_policy of this stack, so its document is not checked: define it here and reference its arn, or add the AWS managed policy to the allow-list with its reason`;
  }
  if (!role) return `"${arn}" is allowed only on a role of this stack assumed by ${allowed.assumedBy.join(", ")}, not on ${holder}`;
  const principals = trustedBy(role);
  const others = principals?.filter((p) => !allowed.assumedBy.includes(p)) ?? [];
  if (!principals || principals.length === 0 || others.length > 0) {
    return `"${arn}" is allowed only on roles assumed by ${allowed.assumedBy.join(", ")}; ${role.path} is assumed by ${principals?.join(", ") || "(unreadable trust policy)"}`;
  }
  return undefined;
}

const managedPolicies: Rule = {
  id: "AWS-IAM-MANAGED-POLICY",
  rationale:
    "A managed policy's grants are not in this repo to review (AdministratorAccess, PowerUserAccess…); only allow-listed AWS policies, on the role each is for.",
  check: (stack) => {
    const violations: Violation[] = [];
    const add = (resource: ResourceView, policyArn: unknown, role: ResourceView | undefined, holder: string) => {
      const message = managedPolicyProblem(stack, policyArn, role, holder);
      if (message) violations.push({ resource, message });
    };
    const roleOf = (name: unknown) => {
      const r = stack.referenced(name);
      return r?.type === "aws_iam_role" ? r : undefined;
    };
    for (const a of stack.ofType("aws_iam_role_policy_attachment")) add(a, a.config.policy_arn, roleOf(a.config.role), `role ${a.config.role}`);
    for (const role of stack.ofType("aws_iam_role")) for (const arn of list(role.config.managed_policy_arns)) add(role, arn, role, role.path);
    for (const a of stack.ofType("aws_iam_policy_attachment")) {
      for (const name of list(a.config.roles)) add(a, a.config.policy_arn, roleOf(name), `role ${name}`);
      for (const name of [...list(a.config.users), ...list(a.config.groups)]) add(a, a.config.policy_arn, undefined, `user or group ${name}`);
    }
    for (const a of stack.ofType("aws_iam_user_policy_attachment")) add(a, a.config.policy_arn, undefined, `user ${a.config.user}`);
    for (const a of stack.ofType("aws_iam_group_policy_attachment")) add(a, a.config.policy_arn, undefined, `group ${a.config.group}`);
    return violations;
  },
};

export const iamRules = [wildcardAction, wildcardResource, managedPolicies];
