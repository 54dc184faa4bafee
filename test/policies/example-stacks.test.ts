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
    // The instance roles have inline Session Manager statements instead of SSM core.
    expect(Object.values(attachments).map((a) => a.policy_arn)).toEqual([DLM]);
    expect(Object.keys(ALLOWED_MANAGED_POLICIES)).toEqual([DLM]);
    expect(ALLOWED_MANAGED_POLICIES[DLM]?.reason.length).toBeGreaterThan(20);
    expect(managedPolicyViolations(stack)).toEqual([]);
    expect(findViolations(stackView(stack, { gitSshPort: 22 }), [])).toEqual([]);
  });

  it("flags the DLM service policy on the GitLab server's role, and AdministratorAccess anywhere", () => {
    const dlmName = Object.keys(attachments).find((k) => attachments[k].policy_arn === DLM)!;
    const serverRole = Object.keys(stack.resource.aws_iam_role!).find((k) => k.startsWith("gitlab-server"))!;
    const moved = deepClone(stack);
    moved.resource.aws_iam_role_policy_attachment![dlmName].role = `\${aws_iam_role.${serverRole}.name}`;
    expect(managedPolicyViolations(moved)).toEqual([
      `${name}/backups/dlm-policy: "${DLM}" is allowed only on roles assumed by dlm.amazonaws.com; ${name}/gitlab-server/role is assumed by ec2.amazonaws.com`,
    ]);
    const admin = deepClone(stack);
    admin.resource.aws_iam_role_policy_attachment![dlmName].policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess";
    expect(managedPolicyViolations(admin)).toEqual([
      `${name}/backups/dlm-policy: AWS managed policy "arn:aws:iam::aws:policy/AdministratorAccess" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed`,
    ]);
    const ssm = deepClone(stack);
    ssm.resource.aws_iam_role_policy_attachment!["ssm-core"] = {
      role: `\${aws_iam_role.${serverRole}.name}`,
      policy_arn: SSM,
      "//": { metadata: { path: `${name}/gitlab-server/ssm-core` } },
    };
    expect(managedPolicyViolations(ssm)).toEqual([
      `${name}/gitlab-server/ssm-core: AWS managed policy "${SSM}" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed`,
    ]);
  });
});
