// Admins reach the instances through SSM Session Manager, never SSH. The instance role gets
// exactly what Session Manager needs (AWS's "custom IAM instance profile for Session Manager":
// the agent registers the instance and opens its control and data channels), instead of
// AmazonSSMManagedInstanceCore, which also reads every SSM parameter in the account
// (ssm:GetParameter(s) on "*") — and on the runners every job with the Docker socket holds
// this role. None of these actions can be scoped to one resource; AWS documents them on "*".
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { Construct } from "constructs";

export const SESSION_MANAGER_ACTIONS = [
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
] as const;

/** An inline policy on `role` that lets Session Manager reach the instance, and nothing else. */
export function allowSessionManager(scope: Construct, role: IamRole): IamRolePolicy {
  return new IamRolePolicy(scope, "ssm-session", {
    role: role.id,
    name: "ssm-session",
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Sid: "SessionManager", Effect: "Allow", Action: [...SESSION_MANAGER_ACTIONS], Resource: "*" }],
    }),
  });
}
