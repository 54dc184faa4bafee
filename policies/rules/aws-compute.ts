// EC2 and EBS: instance metadata only through IMDSv2, and every disk encrypted.
import type { ResourceView, Rule, Violation } from "../types";

const imdsv2: Rule = {
  id: "AWS-EC2-IMDSV2",
  rationale: "IMDSv1 lets any SSRF on the host (or a CI job) read the instance role's credentials.",
  check: (stack) =>
    [...stack.ofType("aws_instance"), ...stack.ofType("aws_launch_template")]
      .filter((r) => r.config.metadata_options?.http_tokens !== "required")
      .map((resource) => ({ resource, message: 'set metadata_options.http_tokens = "required" (IMDSv2 only)' })),
};

function unencrypted(resource: ResourceView): Violation[] {
  const c = resource.config;
  const problems: string[] = [];
  if (resource.type === "aws_ebs_volume" && c.encrypted !== true) problems.push("set encrypted = true");
  if (resource.type === "aws_instance") {
    if (c.root_block_device?.encrypted !== true) problems.push("set root_block_device.encrypted = true");
    for (const d of c.ebs_block_device ?? []) if (d.encrypted !== true) problems.push(`encrypt ebs_block_device ${d.device_name}`);
  }
  if (resource.type === "aws_launch_template") {
    const mappings = c.block_device_mappings ?? [];
    if (mappings.length === 0) problems.push("declare the root volume in block_device_mappings with ebs.encrypted = true");
    for (const m of mappings) if (m.ebs?.encrypted !== true && m.ebs?.encrypted !== "true") problems.push(`encrypt ${m.device_name}`);
  }
  return problems.map((p) => ({ resource, message: `unencrypted EBS: ${p}` }));
}

const ebsEncrypted: Rule = {
  id: "AWS-EBS-ENCRYPTED",
  rationale: "Repositories, databases and build caches live on these disks and in their snapshots.",
  check: (stack) => [...stack.ofType("aws_ebs_volume"), ...stack.ofType("aws_instance"), ...stack.ofType("aws_launch_template")].flatMap(unencrypted),
};

export const computeRules = [imdsv2, ebsEncrypted];
