// The security group of an instance nothing connects to (the runners and the runner manager
// poll GitLab; workers take SSH from their manager, added by the caller): no ingress, egress
// HTTPS, HTTP and DNS only. Made under the ids it always had (sg, egress-<rule>), so no
// Terraform address moves. The role tag tells the ingress policy what the group may admit.
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import type { Construct } from "constructs";
import { ROLE_TAG } from "../policies/types";

/** What such an instance needs to reach: package mirrors and GitLab over HTTP(S), and DNS. */
export const EGRESS_ONLY_RULES = [
  ["https", "tcp", 443],
  ["http", "tcp", 80],
  ["dns-tcp", "tcp", 53],
  ["dns-udp", "udp", 53],
] as const;

export interface EgressOnlySecurityGroupProps {
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly tags: Record<string, string>;
  /** The ROLE_TAG value, e.g. 'runner'. */
  readonly role: string;
}

export function egressOnlySecurityGroup(scope: Construct, props: EgressOnlySecurityGroupProps): SecurityGroup {
  const group = new SecurityGroup(scope, "sg", {
    name: props.name,
    description: props.description,
    vpcId: props.vpcId,
    tags: { ...props.tags, [ROLE_TAG]: props.role },
  });
  for (const [rule, protocol, port] of EGRESS_ONLY_RULES) {
    new VpcSecurityGroupEgressRule(scope, `egress-${rule}`, {
      securityGroupId: group.id,
      description: rule,
      ipProtocol: protocol,
      fromPort: port,
      toPort: port,
      cidrIpv4: "0.0.0.0/0",
    });
  }
  return group;
}
