// The role every EC2 instance of the platform runs as (the GitLab server, the runners, the
// runner manager): trusted by EC2 alone, reachable through Session Manager (admins never use
// SSH), and the instance profile that carries it. Made in the instance's own construct under
// the ids they always had (role, ssm-session, profile), so no Terraform address moves; what
// each instance may do beyond that is its own inline policies, or another construct's grant.
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import type { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { Construct } from "constructs";
import { allowSessionManager } from "./session-manager";

/** EC2 may assume the role; nothing else may. */
export const EC2_TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
} as const;

export interface InstanceRoleProps {
  /** The role's and the profile's name. */
  readonly name: string;
  /** The role's tags. @default none */
  readonly tags?: Record<string, string>;
  /** The profile's tags. @default none */
  readonly profileTags?: Record<string, string>;
}

export interface InstanceRole {
  readonly role: IamRole;
  /** Session Manager's policy: an instance should boot only after it exists. */
  readonly sessionManager: IamRolePolicy;
  readonly profile: IamInstanceProfile;
}

export function instanceRole(scope: Construct, props: InstanceRoleProps): InstanceRole {
  const role = new IamRole(scope, "role", {
    name: props.name,
    assumeRolePolicy: JSON.stringify(EC2_TRUST_POLICY),
    ...(props.tags ? { tags: props.tags } : {}),
  });
  const sessionManager = allowSessionManager(scope, role);
  const profile = new IamInstanceProfile(scope, "profile", { name: props.name, role: role.name, ...(props.profileTags ? { tags: props.profileTags } : {}) });
  return { role, sessionManager, profile };
}
