// Grants follow aws-cdk's shape: grantX(role) may be called for every role that needs X. The
// first keeps the address grants always had; another role gets its own policy; the same role
// twice gets the one it has.
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { AwsRegistry } from "../../constructs/registry/aws";

const assumeEc2 = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

describe("grantReadWrite on the registry", () => {
  it("gives each role its own policy, once, and keeps the first at its address", () => {
    let calls: unknown[] = [];
    const json = JSON.parse(
      Testing.synthScope((scope) => {
        new AwsProvider(scope, "aws", { region: "eu-west-3" });
        const registry = new AwsRegistry(scope, "registry", { bucketName: "example-registry" });
        const server = new IamRole(scope, "server", { name: "server", assumeRolePolicy: assumeEc2 });
        const importer = new IamRole(scope, "importer", { name: "importer", assumeRolePolicy: assumeEc2 });
        calls = [registry.grantReadWrite(server), registry.grantReadWrite(importer), registry.grantReadWrite(server)];
      }),
    );
    const policies = json.resource.aws_iam_role_policy as Record<string, { role: string; name: string; policy: string }>;
    expect(Object.keys(policies).sort()).toEqual([
      expect.stringMatching(/^registry_read-write-importer_/),
      expect.stringMatching(/^registry_read-write_[0-9A-F]{8}$/),
    ]);
    const roles = Object.values(policies)
      .map((p) => p.role)
      .sort();
    expect(roles).toEqual(["${aws_iam_role.importer.id}", "${aws_iam_role.server.id}"]);
    const documents = new Set(Object.values(policies).map((p) => p.policy));
    expect(documents.size).toBe(1);
    expect(calls[2]).toBe(calls[0]);
  });
});
