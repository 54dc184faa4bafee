// The stricter IAM rules on the example stacks' real resources: what they attach passes, and
// the same attachments moved or swapped fail.
import { describe, expect, it } from "vitest";
import { ALLOWED_MANAGED_POLICIES } from "../../policies/rules/aws-iam";
import { findViolations, RULES } from "../../policies/index";
import { stackView } from "../../policies/stack-view";
import { deepClone, exampleEnvironment, synthToDisk, type SynthesizedStack } from "../helpers";

const SSM = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
const DLM = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole";

function managedPolicyViolations(stack: SynthesizedStack): string[] {
  const rule = RULES.filter((r) => r.id === "AWS-IAM-MANAGED-POLICY");
  return findViolations(stackView(stack, { gitSshPort: 22 }), [], rule).map((v) => `${v.resource.path}: ${v.message}`);
}

describe.each(["staging", "production"])("%s: managed policies", (name) => {
  // As `cdktf synth` writes it, with construct paths (and the aspect passed to write it).
  const stack = synthToDisk([exampleEnvironment(name)])[name]!;
  const attachments = stack.resource.aws_iam_role_policy_attachment ?? {};

  it("attaches only allow-listed AWS policies, each with its reason, and nothing is flagged", () => {
    expect(Object.values(attachments).map((a) => a.policy_arn).sort()).toEqual([SSM, SSM, DLM]);
    for (const arn of [SSM, DLM]) expect(ALLOWED_MANAGED_POLICIES[arn]?.reason.length).toBeGreaterThan(20);
    expect(managedPolicyViolations(stack)).toEqual([]);
    expect(findViolations(stackView(stack, { gitSshPort: 22 }), [])).toEqual([]);
  });

  it("flags the DLM service policy on the GitLab server's role, and AdministratorAccess anywhere", () => {
    const dlmName = Object.keys(attachments).find((k) => attachments[k].policy_arn === DLM)!;
    const ssmName = Object.keys(attachments).find((k) => attachments[k].policy_arn === SSM && k.startsWith("gitlab-server"))!;
    const moved = deepClone(stack);
    moved.resource.aws_iam_role_policy_attachment![dlmName].role = attachments[ssmName].role;
    expect(managedPolicyViolations(moved)).toEqual([
      `${name}/backups/dlm-policy: "${DLM}" is allowed only on roles assumed by dlm.amazonaws.com; ${name}/gitlab-server/role is assumed by ec2.amazonaws.com`,
    ]);
    const admin = deepClone(stack);
    admin.resource.aws_iam_role_policy_attachment![ssmName].policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess";
    expect(managedPolicyViolations(admin)).toEqual([
      `${name}/gitlab-server/ssm-core: AWS managed policy "arn:aws:iam::aws:policy/AdministratorAccess" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed`,
    ]);
  });
});
