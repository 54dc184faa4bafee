// Grants in aws-cdk's shape: `thing.grantX(role)` attaches the inline policy that lets the role
// do X, and may be called for as many roles as need it. The first role's policy keeps the
// construct id grants always had (its Terraform address must not move); each further role gets
// an id of its own; the same role twice gets the same policy.
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";

export class RoleGrants {
  private readonly byRole = new Map<IamRole, IamRolePolicy>();

  constructor(
    private readonly scope: Construct,
    private readonly id: string,
    /** The inline policy's name (unique per role, which is all IAM asks) and its document. */
    private readonly policy: () => { readonly name: string; readonly document: object },
  ) {}

  grant(role: IamRole): IamRolePolicy {
    const existing = this.byRole.get(role);
    if (existing) return existing;
    // The role's path inside its stack names the further grants: gitlab-server-role, runner-fleet-role.
    const scopes = role.node.scopes;
    const roleName = scopes
      .slice(scopes.indexOf(TerraformStack.of(role)) + 1)
      .map((s) => s.node.id)
      .join("-");
    const id = this.byRole.size === 0 ? this.id : `${this.id}-${roleName}`;
    const { name, document } = this.policy();
    const policy = new IamRolePolicy(this.scope, id, { role: role.id, name, policy: JSON.stringify(document) });
    this.byRole.set(role, policy);
    return policy;
  }
}
