// The pieces every EC2 instance of the platform shares, written once: its role (EC2 alone may
// assume it; Session Manager, nothing else) and, for instances nothing connects to, an
// egress-only security group.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { egressOnlySecurityGroup } from "../../constructs/egress-only-security-group";
import { instanceRole } from "../../constructs/instance-role";
import { SESSION_MANAGER_ACTIONS } from "../../constructs/session-manager";

function synth(build: (scope: Parameters<Parameters<typeof Testing.synthScope>[0]>[0]) => void) {
  return JSON.parse(
    Testing.synthScope((scope) => {
      new AwsProvider(scope, "aws", { region: "eu-west-3" });
      build(scope);
    }),
  ).resource;
}

describe("instanceRole", () => {
  const resource = synth((scope) => instanceRole(scope, { name: "x-server", tags: { Name: "x-server" } }));

  it("is assumable by EC2 alone, and carries only Session Manager's actions", () => {
    const [role] = Object.values(resource.aws_iam_role) as any[];
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    expect(role.name).toBe("x-server");
    const policies = Object.values(resource.aws_iam_role_policy) as any[];
    expect(policies).toHaveLength(1);
    expect(JSON.parse(policies[0].policy).Statement[0].Action).toEqual([...SESSION_MANAGER_ACTIONS]);
  });

  it("keeps the ids instances always gave them (their Terraform addresses do not move)", () => {
    expect(Object.keys(resource.aws_iam_role)).toEqual(["role"]);
    expect(Object.keys(resource.aws_iam_role_policy)).toEqual(["ssm-session"]);
    expect(Object.keys(resource.aws_iam_instance_profile)).toEqual(["profile"]);
    expect(resource.aws_iam_instance_profile.profile.role).toBe("${aws_iam_role.role.name}");
  });
});

describe("egressOnlySecurityGroup", () => {
  const resource = synth((scope) =>
    egressOnlySecurityGroup(scope, { name: "x-runner", description: "runners", vpcId: "vpc-1", tags: { Name: "x-runner" }, role: "runner" }),
  );

  it("admits nothing, reaches HTTPS, HTTP and DNS only, and names its role for the ingress policy", () => {
    expect(resource.aws_vpc_security_group_ingress_rule).toBeUndefined();
    expect(resource.aws_security_group.sg.ingress).toBeUndefined();
    const egress = Object.values(resource.aws_vpc_security_group_egress_rule as Record<string, any>)
      .map((r) => `${r.ip_protocol}/${r.from_port}`)
      .sort();
    expect(egress).toEqual(["tcp/443", "tcp/53", "tcp/80", "udp/53"]);
    expect(resource.aws_security_group.sg.tags).toMatchObject({ Name: "x-runner", "gitlab-platform:role": "runner" });
  });
});
