// Each policy rule with a passing and a failing case.
import { describe, expect, it } from "vitest";
import { evaluatePolicies, findViolations, RULES } from "../../policies/index";
import { view } from "./view";

const rule = (id: string) => {
  const r = RULES.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
};
const check = (id: string, resources: Parameters<typeof view>[0], port?: number, context?: Parameters<typeof view>[2]) =>
  rule(id)
    .check(view(resources, port, context))
    .map((v) => `${v.resource.path}: ${v.message}`);

const ref = (type: string, name: string, attr = "id") => `\${${type}.${name}.${attr}}`;

/** A bucket with everything a private bucket needs; tests remove one piece at a time. */
function bucketResources(purpose: string, drop: string[] = []) {
  const all: Record<string, Record<string, Record<string, unknown>>> = {
    aws_s3_bucket: { b: { bucket: "x", tags: { "gitlab-platform:purpose": purpose }, lifecycle: { prevent_destroy: true } } },
    aws_s3_bucket_public_access_block: {
      pab: { bucket: ref("aws_s3_bucket", "b"), block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true },
    },
    aws_s3_bucket_server_side_encryption_configuration: { sse: { bucket: ref("aws_s3_bucket", "b") } },
    aws_s3_bucket_policy: {
      tls: {
        bucket: ref("aws_s3_bucket", "b"),
        policy: JSON.stringify({ Statement: [{ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }] }),
      },
    },
    aws_s3_bucket_versioning: { v: { bucket: ref("aws_s3_bucket", "b"), versioning_configuration: { status: "Enabled" } } },
    aws_s3_bucket_lifecycle_configuration: {
      l: {
        bucket: ref("aws_s3_bucket", "b"),
        rule: [
          { id: "e", status: "Enabled", expiration: [{ days: 14 }] },
          { id: "n", status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 30 }] },
          { id: "m", status: "Enabled", expiration: [{ expired_object_delete_marker: true }] },
        ],
      },
    },
  };
  for (const type of drop) delete all[type];
  return all;
}

describe("policy rules", () => {
  it("every rule has an id, a rationale and a check", () => {
    expect(RULES.length).toBeGreaterThanOrEqual(15);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[A-Z0-9-]+$/);
      expect(r.rationale.length).toBeGreaterThan(20);
    }
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  });

  it("AWS-EC2-IMDSV2: instances and launch templates require tokens", () => {
    expect(check("AWS-EC2-IMDSV2", { aws_instance: { i: { metadata_options: { http_tokens: "required" } } } })).toEqual([]);
    expect(check("AWS-EC2-IMDSV2", { aws_instance: { i: { metadata_options: { http_tokens: "optional" } } }, aws_launch_template: { lt: {} } })).toEqual([
      'test/i: set metadata_options.http_tokens = "required" (IMDSv2 only)',
      'test/lt: set metadata_options.http_tokens = "required" (IMDSv2 only)',
    ]);
  });

  it("AWS-EBS-ENCRYPTED: volumes, root devices and launch template disks", () => {
    const good = {
      aws_ebs_volume: { v: { encrypted: true } },
      aws_instance: { i: { root_block_device: { encrypted: true } } },
      aws_launch_template: { lt: { block_device_mappings: [{ device_name: "/dev/xvda", ebs: { encrypted: "true" } }] } },
    };
    expect(check("AWS-EBS-ENCRYPTED", good)).toEqual([]);
    expect(
      check("AWS-EBS-ENCRYPTED", {
        aws_ebs_volume: { v: {} },
        aws_instance: { i: { root_block_device: {} } },
        aws_launch_template: { lt: { block_device_mappings: [{ device_name: "/dev/xvda", ebs: {} }] } },
      }),
    ).toEqual([
      "test/v: unencrypted EBS: set encrypted = true",
      "test/i: unencrypted EBS: set root_block_device.encrypted = true",
      "test/lt: unencrypted EBS: encrypt /dev/xvda",
    ]);
  });

  it.each([
    ["AWS-S3-PUBLIC-ACCESS-BLOCK", "aws_s3_bucket_public_access_block", /add an aws_s3_bucket_public_access_block/],
    ["AWS-S3-ENCRYPTION", "aws_s3_bucket_server_side_encryption_configuration", /server_side_encryption/],
    ["AWS-S3-TLS-ONLY", "aws_s3_bucket_policy", /aws:SecureTransport/],
    ["AWS-S3-VERSIONED", "aws_s3_bucket_versioning", /enable versioning/],
    ["AWS-S3-LIFECYCLE", "aws_s3_bucket_lifecycle_configuration", /lifecycle rule expiring/],
  ])("%s: passes a complete backups bucket, fails without %s", (id, piece, message) => {
    expect(check(id, bucketResources("backups"))).toEqual([]);
    const found = check(id, bucketResources("backups", [piece]));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it("AWS-S3-PUBLIC-ACCESS-BLOCK: all four blocks, not three", () => {
    const r = bucketResources("cache");
    (r.aws_s3_bucket_public_access_block!.pab as Record<string, unknown>).restrict_public_buckets = false;
    expect(check("AWS-S3-PUBLIC-ACCESS-BLOCK", r)).toHaveLength(1);
  });

  it("AWS-S3-LIFECYCLE: a versioned bucket expires its old versions and removes expired delete markers, or it grows forever", () => {
    const without = (id: string, purpose = "registry", drop: string[] = []) => {
      const r = bucketResources(purpose, drop);
      const l = r.aws_s3_bucket_lifecycle_configuration!.l as { rule: { id: string }[] };
      l.rule = l.rule.filter((x) => x.id !== id);
      return r;
    };
    expect(check("AWS-S3-LIFECYCLE", bucketResources("registry"))).toEqual([]);
    const message =
      "test/b: versioned: add lifecycle rules expiring noncurrent versions (noncurrent_version_expiration) and removing expired delete markers (expiration.expired_object_delete_marker)";
    expect(check("AWS-S3-LIFECYCLE", without("n"))).toEqual([message]);
    expect(check("AWS-S3-LIFECYCLE", without("m"))).toEqual([message]);
    // Not versioned (the cache): no old versions to expire.
    const cache = without("n", "cache", ["aws_s3_bucket_versioning"]);
    (cache.aws_s3_bucket_lifecycle_configuration!.l as { rule: { id: string }[] }).rule.splice(1);
    expect(check("AWS-S3-LIFECYCLE", cache)).toEqual([]);
  });

  it("AWS-S3-VERSIONED and AWS-S3-LIFECYCLE apply by purpose: the registry needs no expiry, the cache no versions", () => {
    expect(check("AWS-S3-LIFECYCLE", bucketResources("registry", ["aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_versioning"]))).toEqual([]);
    expect(check("AWS-S3-VERSIONED", bucketResources("cache", ["aws_s3_bucket_versioning"]))).toEqual([]);
    expect(check("AWS-S3-LIFECYCLE", bucketResources("cache", ["aws_s3_bucket_lifecycle_configuration"]))).toHaveLength(1);
  });

  it("AWS-SG-INGRESS: the world reaches only the GitLab server on 80, 443 and git SSH; runners take nothing", () => {
    const groups = { server: { tags: { "gitlab-platform:role": "gitlab-server" } }, runner: { tags: { "gitlab-platform:role": "runner" } } };
    const rule = (group: string, port: number, cidr = "0.0.0.0/0") => ({
      security_group_id: ref("aws_security_group", group),
      ip_protocol: "tcp",
      from_port: port,
      to_port: port,
      cidr_ipv4: cidr,
    });
    const ok = { aws_security_group: groups, aws_vpc_security_group_ingress_rule: { a: rule("server", 443), b: rule("server", 80), c: rule("server", 22) } };
    expect(check("AWS-SG-INGRESS", ok)).toEqual([]);
    const bad = {
      aws_security_group: { ...groups, inline: { ingress: [{ from_port: 22 }] } },
      aws_vpc_security_group_ingress_rule: { ssh: rule("server", 2222), runner: rule("runner", 443, "10.0.0.0/8"), db: rule("server", 5432) },
    };
    expect(check("AWS-SG-INGRESS", bad)).toEqual([
      "test/inline: declare ingress as aws_vpc_security_group_ingress_rule resources, not inline blocks",
      "test/ssh: only the GitLab server may be open to the internet, on tcp 80, 443, 22: restrict the source or the port",
      "test/runner: runners take no inbound connections: remove this ingress rule",
      "test/db: only the GitLab server may be open to the internet, on tcp 80, 443, 22: restrict the source or the port",
    ]);
    expect(check("AWS-SG-INGRESS", { ...bad, aws_security_group: groups, aws_vpc_security_group_ingress_rule: { ssh: rule("server", 2222) } }, 2222)).toEqual(
      [],
    );
  });

  it("AWS-SG-INGRESS: a jobs-mode manager takes nothing; its workers take SSH from the manager's group and nothing else", () => {
    const groups = {
      manager: { tags: { "gitlab-platform:role": "runner-manager" } },
      workers: { tags: { "gitlab-platform:role": "runner-worker" } },
      server: { tags: { "gitlab-platform:role": "gitlab-server" } },
    };
    const from = (target: string, source: { group?: string; cidr?: string }, port = 22) => ({
      security_group_id: ref("aws_security_group", target),
      ip_protocol: "tcp",
      from_port: port,
      to_port: port,
      ...(source.group ? { referenced_security_group_id: ref("aws_security_group", source.group) } : {}),
      ...(source.cidr ? { cidr_ipv4: source.cidr } : {}),
    });
    const ok = { aws_security_group: groups, aws_vpc_security_group_ingress_rule: { ssh: from("workers", { group: "manager" }) } };
    expect(check("AWS-SG-INGRESS", ok)).toEqual([]);
    const bad = {
      aws_security_group: groups,
      aws_vpc_security_group_ingress_rule: {
        vpc: from("workers", { cidr: "10.0.0.0/16" }),
        server: from("workers", { group: "server" }),
        docker: from("workers", { group: "manager" }, 2375),
        manager: from("manager", { group: "workers" }),
      },
      aws_security_group_rule: {
        legacy: {
          type: "ingress",
          security_group_id: ref("aws_security_group", "workers"),
          protocol: "tcp",
          from_port: 22,
          to_port: 22,
          cidr_blocks: ["10.0.0.0/8"],
        },
      },
    };
    const only = "runner workers take SSH (tcp 22) from the runner manager's security group only: no address range, no other port or source";
    expect(check("AWS-SG-INGRESS", bad)).toEqual([
      `test/vpc: ${only}`,
      `test/server: ${only}`,
      `test/docker: ${only}`,
      "test/manager: runners take no inbound connections: remove this ingress rule",
      `test/legacy: ${only}`,
    ]);
  });

  it("AWS-SG-INGRESS: behind Cloudflare's proxy, 80 and 443 are open to its ranges only, never to the world", () => {
    const groups = { server: { tags: { "gitlab-platform:role": "gitlab-server" } } };
    const rule = (port: number, cidr: Record<string, string>) => ({
      security_group_id: ref("aws_security_group", "server"),
      ip_protocol: "tcp",
      from_port: port,
      to_port: port,
      ...cidr,
    });
    const proxied = { webBehindCloudflare: true };
    const cloudflare = {
      aws_security_group: groups,
      aws_vpc_security_group_ingress_rule: {
        git: rule(22, { cidr_ipv4: "0.0.0.0/0" }),
        gitv6: rule(22, { cidr_ipv6: "::/0" }),
        https: rule(443, { cidr_ipv4: "173.245.48.0/20" }),
        httpv6: rule(80, { cidr_ipv6: "2400:cb00::/32" }),
      },
    };
    expect(check("AWS-SG-INGRESS", cloudflare, 22, proxied)).toEqual([]);
    const world = {
      aws_security_group: groups,
      aws_vpc_security_group_ingress_rule: {
        https: rule(443, { cidr_ipv4: "0.0.0.0/0" }),
        http: rule(80, { cidr_ipv6: "::/0" }),
        git: rule(22, { cidr_ipv4: "0.0.0.0/0" }),
      },
    };
    const message =
      "the web host names are proxied by Cloudflare (dns.proxied): open 80 and 443 to Cloudflare's ranges only (constructs/dns-tls/cloudflare-ip-ranges.ts), or anyone can reach the origin around its WAF and rate limits";
    expect(check("AWS-SG-INGRESS", world, 22, proxied)).toEqual([`test/https: ${message}`, `test/http: ${message}`]);
    // DNS-only, the world is how clients reach the server.
    expect(check("AWS-SG-INGRESS", world, 22, { webBehindCloudflare: false })).toEqual([]);
  });

  it("AWS-SG-INGRESS: aws_security_group_rule and inline ingress blocks are checked like ingress rule resources", () => {
    const groups = { server: { tags: { "gitlab-platform:role": "gitlab-server" } }, runner: { tags: { "gitlab-platform:role": "runner" } } };
    const legacy = (group: string, port: number, cidrs: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      type: "ingress",
      security_group_id: ref("aws_security_group", group),
      protocol: "tcp",
      from_port: port,
      to_port: port,
      ...cidrs,
      ...extra,
    });
    const ok = {
      aws_security_group: groups,
      aws_security_group_rule: {
        https: legacy("server", 443, { cidr_blocks: ["0.0.0.0/0"], ipv6_cidr_blocks: ["::/0"] }),
        ssh: legacy("server", 22, { cidr_blocks: ["0.0.0.0/0"] }, { protocol: "6" }),
        internal: legacy("server", 5432, { cidr_blocks: ["10.0.0.0/16"] }),
        egress: legacy("runner", 443, { cidr_blocks: ["0.0.0.0/0"] }, { type: "egress" }),
      },
    };
    expect(check("AWS-SG-INGRESS", ok)).toEqual([]);
    const open = "only the GitLab server may be open to the internet, on tcp 80, 443, 22: restrict the source or the port";
    expect(
      check("AWS-SG-INGRESS", {
        aws_security_group: groups,
        aws_security_group_rule: {
          db: legacy("server", 5432, { cidr_blocks: ["10.0.0.0/16", "0.0.0.0/0"] }),
          v6: legacy("server", 8080, { ipv6_cidr_blocks: ["::/0"] }),
          all: legacy("server", 0, { cidr_blocks: ["0.0.0.0/0"] }, { protocol: "-1" }),
          runner: legacy("runner", 443, { cidr_blocks: ["10.0.0.0/8"] }),
        },
      }),
    ).toEqual([`test/db: ${open}`, `test/v6: ${open}`, `test/all: ${open}`, "test/runner: runners take no inbound connections: remove this ingress rule"]);
    const inline = {
      ...groups.server,
      ingress: [
        { protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["0.0.0.0/0"] },
        { protocol: "tcp", from_port: 3389, to_port: 3389, cidr_blocks: ["0.0.0.0/0"] },
      ],
    };
    expect(check("AWS-SG-INGRESS", { aws_security_group: { inline } })).toEqual([
      "test/inline: declare ingress as aws_vpc_security_group_ingress_rule resources, not inline blocks",
      `test/inline: inline ingress tcp 3389-3389: ${open}`,
    ]);
    const runnerInline = { ...groups.runner, ingress: [{ protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["10.0.0.0/8"] }] };
    expect(check("AWS-SG-INGRESS", { aws_security_group: { runnerInline } })).toContain(
      "test/runnerInline: inline ingress tcp 22-22: runners take no inbound connections: remove this ingress rule",
    );
  });

  const iam = (statement: Record<string, unknown>) => ({
    aws_iam_role_policy: { p: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Sid: "S", ...statement }] }) } },
  });

  it("AWS-IAM-WILDCARD-ACTION: named actions pass, service:* and * fail", () => {
    expect(check("AWS-IAM-WILDCARD-ACTION", iam({ Action: ["s3:GetObject"], Resource: "arn:aws:s3:::b/*" }))).toEqual([]);
    expect(check("AWS-IAM-WILDCARD-ACTION", iam({ Action: ["s3:*", "*"], Resource: "arn:aws:s3:::b/*" }))).toEqual([
      'test/p: action "s3:*" in statement S: list the actions needed instead',
      'test/p: action "*" in statement S: list the actions needed instead',
    ]);
  });

  it("AWS-IAM-WILDCARD-RESOURCE: only actions AWS cannot scope, with their condition", () => {
    const metrics = { Action: "cloudwatch:PutMetricData", Resource: "*", Condition: { StringEquals: { "cloudwatch:namespace": "CWAgent" } } };
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam(metrics))).toEqual([]);
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: "cloudwatch:PutMetricData", Resource: "*" }))[0]).toMatch(/add a condition/);
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: ["secretsmanager:GetSecretValue"], Resource: ["*"] }))).toEqual([
      'test/p: resource "*" for secretsmanager:GetSecretValue in statement S: scope it to this environment\'s ARNs',
    ]);
  });

  it("AWS-IAM-WILDCARD-ACTION: a wildcard anywhere in an action name, and NotAction, fail", () => {
    expect(check("AWS-IAM-WILDCARD-ACTION", iam({ Action: ["s3:GetObject", "s3:PutObject"], Resource: "arn:aws:s3:::b/*" }))).toEqual([]);
    expect(check("AWS-IAM-WILDCARD-ACTION", iam({ Action: ["s3:Get*", "ec2:Describe*", "s3:Put?bject"], Resource: "arn:aws:s3:::b/*" }))).toEqual([
      'test/p: action "s3:Get*" in statement S: list the actions needed instead',
      'test/p: action "ec2:Describe*" in statement S: list the actions needed instead',
      'test/p: action "s3:Put?bject" in statement S: list the actions needed instead',
    ]);
    expect(check("AWS-IAM-WILDCARD-ACTION", iam({ NotAction: "iam:*", Resource: "arn:aws:s3:::b/*" }))).toEqual([
      "test/p: NotAction in Allow statement S grants every action except those listed: list the actions needed in Action instead",
    ]);
    // Deny statements may use wildcards and NotAction freely: they only take away.
    expect(check("AWS-IAM-WILDCARD-ACTION", iam({ Effect: "Deny", NotAction: "s3:*", Action: "s3:*", Resource: "*" }))).toEqual([]);
  });

  it("AWS-IAM-WILDCARD-RESOURCE: NotResource and ARNs that name no resource fail; one bucket's objects and a log group's streams pass", () => {
    const scoped = [
      ref("aws_s3_bucket", "b", "arn"),
      `${ref("aws_s3_bucket", "b", "arn")}/*`,
      `${ref("aws_cloudwatch_log_group", "g", "arn")}:*`,
      "arn:aws:logs:eu-west-3:111111111111:log-group:/gitlab/rails:*",
      "arn:aws:s3:::my-bucket/*",
      "arn:aws:autoscaling:eu-west-3:${data.aws_caller_identity.a.account_id}:autoScalingGroup:*:autoScalingGroupName/staging-gitlab-runner",
    ];
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: ["s3:GetObject"], Resource: scoped }))).toEqual([]);
    for (const wildcard of [
      "arn:aws:s3:::*",
      "arn:aws:s3:::*/*",
      "arn:aws:secretsmanager:eu-west-3:111111111111:secret:*",
      "arn:aws:iam::111111111111:role/*",
      "arn:aws:logs:eu-west-3:111111111111:log-group:*:*",
    ]) {
      expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: ["s3:GetObject"], Resource: [scoped[0], wildcard] })), wildcard).toEqual([
        `test/p: resource "${wildcard}" for s3:GetObject in statement S: scope it to this environment's ARNs`,
      ]);
    }
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: "s3:GetObject", NotResource: "arn:aws:s3:::secret-bucket/*" }))).toEqual([
      "test/p: NotResource in Allow statement S reaches every resource except those listed: name the resources in Resource instead",
    ]);
  });

  it("AWS-IAM-WILDCARD-RESOURCE: the documented exceptions still pass, and PutMetricData needs its namespace condition", () => {
    const namespace = { StringEquals: { "cloudwatch:namespace": "CWAgent" } };
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: ["ec2:DescribeTags", "ec2:DescribeVolumes"], Resource: "*" }))).toEqual([]);
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: ["cloudwatch:PutMetricData"], Resource: ["*"], Condition: namespace }))).toEqual([]);
    expect(
      check(
        "AWS-IAM-WILDCARD-RESOURCE",
        iam({ Action: "cloudwatch:PutMetricData", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }),
      ),
    ).toEqual([
      "test/p: statement S: add a condition on cloudwatch:namespace (cloudwatch:PutMetricData: no resource-level permissions; scope it with a cloudwatch:namespace condition)",
    ]);
    // IAM action names are case-insensitive: another spelling is the same exception, with the same condition.
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: "CloudWatch:putMetricData", Resource: "*" }))[0]).toMatch(
      /add a condition on cloudwatch:namespace/,
    );
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: "CloudWatch:putMetricData", Resource: "*", Condition: namespace }))).toEqual([]);
  });

  it("AWS-IAM-WILDCARD-RESOURCE: the runner manager's plugin reads groups on *, and pushes SSH keys only to its worker group's instances", () => {
    const describe = { Action: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "ec2:DescribeInstances"], Resource: "*" };
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam(describe))).toEqual([]);
    const instances = "arn:aws:ec2:eu-west-3:111111111111:instance/*";
    const tag = { StringEquals: { "ec2:ResourceTag/aws:autoscaling:groupName": "staging-gitlab-runner-workers", "ec2:osuser": "ec2-user" } };
    expect(check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: "ec2-instance-connect:SendSSHPublicKey", Resource: instances, Condition: tag }))).toEqual([]);
    expect(
      check(
        "AWS-IAM-WILDCARD-RESOURCE",
        iam({ Action: "ec2-instance-connect:SendSSHPublicKey", Resource: instances, Condition: { StringEquals: { "ec2:osuser": "ec2-user" } } }),
      ),
    ).toEqual([
      "test/p: statement S: add a condition on ec2:ResourceTag/aws:autoscaling:groupName (ec2-instance-connect:SendSSHPublicKey: the worker group launches its instances at any time, so no ARN can name them in advance; scope it to the group's instances with a condition on their aws:autoscaling:groupName tag)",
    ]);
    // Scaling and terminating name the group itself: never on *.
    expect(
      check("AWS-IAM-WILDCARD-RESOURCE", iam({ Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"], Resource: "*" })),
    ).toEqual([
      'test/p: resource "*" for autoscaling:SetDesiredCapacity, autoscaling:TerminateInstanceInAutoScalingGroup in statement S: scope it to this environment\'s ARNs',
    ]);
  });

  it("AWS-RUNNER-WORKER-GROUP: the plugin alone scales the worker group, and its launch template has no role", () => {
    const role = { key: "gitlab-platform:role", value: "runner-worker", propagate_at_launch: false };
    const template = (extra: Record<string, unknown> = {}) => ({ aws_launch_template: { lt: { metadata_options: { http_tokens: "required" }, ...extra } } });
    const group = (extra: Record<string, unknown> = {}) => ({
      min_size: 0,
      max_size: 3,
      protect_from_scale_in: true,
      suspended_processes: ["AZRebalance"],
      capacity_rebalance: false,
      lifecycle: { ignore_changes: ["desired_capacity"] },
      mixed_instances_policy: { launch_template: { launch_template_specification: { launch_template_id: ref("aws_launch_template", "lt") } } },
      tag: [role],
      ...extra,
    });
    expect(check("AWS-RUNNER-WORKER-GROUP", { ...template(), aws_autoscaling_group: { workers: group() } })).toEqual([]);
    // A cpu fleet (no role tag) scales itself on CPU: not this rule's business.
    expect(check("AWS-RUNNER-WORKER-GROUP", { aws_autoscaling_group: { fleet: group({ min_size: 1, tag: [], lifecycle: undefined }) } })).toEqual([]);
    const bad = {
      ...template({ iam_instance_profile: { arn: "arn:aws:iam::111111111111:instance-profile/x" } }),
      aws_autoscaling_group: {
        workers: group({
          min_size: 1,
          protect_from_scale_in: false,
          suspended_processes: [],
          capacity_rebalance: true,
          lifecycle: { ignore_changes: ["tag"] },
          initial_lifecycle_hook: [{ name: "h" }],
        }),
      },
      aws_autoscaling_policy: { cpu: { autoscaling_group_name: ref("aws_autoscaling_group", "workers", "name") } },
      aws_autoscaling_lifecycle_hook: { hook: { autoscaling_group_name: ref("aws_autoscaling_group", "workers", "name") } },
    };
    expect(check("AWS-RUNNER-WORKER-GROUP", bad).map((m) => m.replace(/ \(.*$/, ""))).toEqual([
      "test/workers: runner worker group: set min_size = 0",
      "test/workers: runner worker group: add desired_capacity to lifecycle.ignore_changes",
      "test/workers: runner worker group: set protect_from_scale_in = true",
      "test/workers: runner worker group: suspend AZRebalance",
      "test/workers: runner worker group: set capacity_rebalance = false",
      "test/workers: runner worker group: remove initial_lifecycle_hook",
      "test/workers: runner worker group: remove test/cpu",
      "test/workers: runner worker group: remove test/hook",
      "test/workers: runner worker group: remove iam_instance_profile from test/lt: CI jobs run on the workers",
    ]);
    expect(check("AWS-RUNNER-WORKER-GROUP", { aws_autoscaling_group: { workers: group({ mixed_instances_policy: undefined }) } })).toEqual([
      "test/workers: runner worker group: launch from an aws_launch_template of this stack, so its role can be checked",
    ]);
  });

  it("AWS-IAM-WILDCARD-*: inline_policy blocks on aws_iam_role, user and group policies are checked like role policies", () => {
    const doc = (statement: Record<string, unknown>) => JSON.stringify({ Statement: [{ Effect: "Allow", Sid: "S", ...statement }] });
    const stack = {
      aws_iam_role: {
        r: {
          inline_policy: [
            { name: "ok", policy: doc({ Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }) },
            { name: "bad", policy: doc({ Action: "s3:*", Resource: "*" }) },
          ],
        },
      },
      aws_iam_user_policy: { u: { policy: doc({ Action: "iam:*", Resource: "arn:aws:iam::111111111111:user/x" }) } },
      aws_iam_group_policy: { g: { policy: doc({ Action: "kms:Decrypt", Resource: "*" }) } },
    };
    expect(check("AWS-IAM-WILDCARD-ACTION", stack)).toEqual([
      'test/u: action "iam:*" in statement S: list the actions needed instead',
      'test/r: action "s3:*" in statement S: list the actions needed instead',
    ]);
    expect(check("AWS-IAM-WILDCARD-RESOURCE", stack)).toEqual([
      'test/g: resource "*" for kms:Decrypt in statement S: scope it to this environment\'s ARNs',
      'test/r: resource "*" for s3:* in statement S: scope it to this environment\'s ARNs',
    ]);
    expect(check("AWS-IAM-WILDCARD-ACTION", { aws_iam_role: { r: { inline_policy: [{}] } } })).toEqual([]);
  });

  it("AWS-IAM-WILDCARD-ACTION: a policy the rules cannot read (a data source or jsonencode) is not waved through", () => {
    expect(check("AWS-IAM-WILDCARD-ACTION", { aws_iam_role_policy: { p: { policy: "${data.aws_iam_policy_document.admin.json}" } } })).toEqual([
      "test/p: policy is not a JSON document the rules can read (a reference or a data source): build it with JSON.stringify so it is checked",
    ]);
  });

  describe("AWS-IAM-MANAGED-POLICY", () => {
    const trust = (service: string) => JSON.stringify({ Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
    const SSM = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
    const DLM = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole";
    const roles = { server: { assume_role_policy: trust("ec2.amazonaws.com") }, dlm: { assume_role_policy: trust("dlm.amazonaws.com") } };
    const attach = (role: string, policyArn: string) => ({ role: ref("aws_iam_role", role, "name"), policy_arn: policyArn });
    const managed = (extra: Record<string, Record<string, Record<string, unknown>>> = {}) => check("AWS-IAM-MANAGED-POLICY", { aws_iam_role: roles, ...extra });

    it("passes the allow-listed AWS policies on the roles they are for, and policies defined in the stack", () => {
      expect(
        managed({
          aws_iam_policy: { own: { policy: "{}" } },
          aws_iam_role_policy_attachment: { snap: attach("dlm", DLM), own: attach("server", ref("aws_iam_policy", "own", "arn")) },
          aws_iam_user_policy_attachment: { u: { user: "ci", policy_arn: ref("aws_iam_policy", "own", "arn") } },
        }),
      ).toEqual([]);
      expect(check("AWS-IAM-MANAGED-POLICY", { aws_iam_role: { r: { assume_role_policy: trust("dlm.amazonaws.com"), managed_policy_arns: [DLM] } } })).toEqual(
        [],
      );
    });

    it("fails AmazonSSMManagedInstanceCore, even on an EC2 role: it reads every SSM parameter in the account", () => {
      expect(managed({ aws_iam_role_policy_attachment: { ssm: attach("server", SSM) } })).toEqual([
        `test/ssm: AWS managed policy "${SSM}" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed`,
      ]);
    });

    it("fails any other managed policy: AWS ones off the list, customer ARNs and data sources the stack does not define", () => {
      expect(
        managed({
          aws_iam_role_policy_attachment: {
            admin: attach("server", "arn:aws:iam::aws:policy/AdministratorAccess"),
            customer: attach("server", "arn:aws:iam::111111111111:policy/ops"),
            data: attach("server", "${data.aws_iam_policy.ops.arn}"),
          },
        }),
      ).toEqual([
        'test/admin: AWS managed policy "arn:aws:iam::aws:policy/AdministratorAccess" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed',
        'test/customer: policy "arn:aws:iam::111111111111:policy/ops" is not an aws_iam_policy of this stack, so its document is not checked: define it here and reference its arn, or add the AWS managed policy to the allow-list with its reason',
        'test/data: policy "${data.aws_iam_policy.ops.arn}" is not an aws_iam_policy of this stack, so its document is not checked: define it here and reference its arn, or add the AWS managed policy to the allow-list with its reason',
      ]);
    });

    it("reads aws_iam_role.managed_policy_arns and aws_iam_policy_attachment too", () => {
      expect(
        check("AWS-IAM-MANAGED-POLICY", {
          aws_iam_role: { r: { assume_role_policy: trust("dlm.amazonaws.com"), managed_policy_arns: [DLM, "arn:aws:iam::aws:policy/PowerUserAccess"] } },
          aws_iam_policy_attachment: { all: { name: "all", roles: [ref("aws_iam_role", "r", "name")], policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" } },
        }),
      ).toEqual([
        'test/r: AWS managed policy "arn:aws:iam::aws:policy/PowerUserAccess" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed',
        'test/all: AWS managed policy "arn:aws:iam::aws:policy/ReadOnlyAccess" is not on the allow-list (policies/rules/aws-iam.ts): write an inline policy with the actions needed',
      ]);
    });

    it("gives an allow-listed policy only to a role of this stack trusted by the service it is for", () => {
      expect(
        managed({
          aws_iam_role_policy_attachment: { snap: attach("server", DLM), other: { role: "someone-elses-role", policy_arn: DLM } },
          aws_iam_user_policy_attachment: { u: { user: "admin", policy_arn: DLM } },
        }),
      ).toEqual([
        'test/snap: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole" is allowed only on roles assumed by dlm.amazonaws.com; test/server is assumed by ec2.amazonaws.com',
        'test/other: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole" is allowed only on a role of this stack assumed by dlm.amazonaws.com, not on role someone-elses-role',
        'test/u: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole" is allowed only on a role of this stack assumed by dlm.amazonaws.com, not on user admin',
      ]);
    });
  });

  it("AWS-LOGS-RETENTION: every log group expires its events", () => {
    expect(check("AWS-LOGS-RETENTION", { aws_cloudwatch_log_group: { g: { retention_in_days: 30 } } })).toEqual([]);
    expect(check("AWS-LOGS-RETENTION", { aws_cloudwatch_log_group: { g: {} } })).toHaveLength(1);
  });

  it("STATEFUL-PREVENT-DESTROY: data volume, Elastic IP and data buckets; not the cache", () => {
    const keep = { lifecycle: { prevent_destroy: true } };
    expect(
      check("STATEFUL-PREVENT-DESTROY", {
        aws_ebs_volume: { v: keep },
        aws_eip: { e: keep },
        aws_s3_bucket: { b: { ...keep, tags: { "gitlab-platform:purpose": "backups" } }, c: { tags: { "gitlab-platform:purpose": "cache" } } },
      }),
    ).toEqual([]);
    expect(
      check("STATEFUL-PREVENT-DESTROY", {
        aws_ebs_volume: { v: {} },
        aws_eip: { e: {} },
        aws_s3_bucket: { b: { tags: { "gitlab-platform:purpose": "registry" } } },
      }),
    ).toHaveLength(3);
  });

  it("STATEFUL-PREVENT-DESTROY: GitLab groups and projects (deleting one deletes repositories)", () => {
    const keep = { lifecycle: { prevent_destroy: true } };
    expect(check("STATEFUL-PREVENT-DESTROY", { gitlab_group: { g: { ...keep, path: "example" } }, gitlab_project: { p: { ...keep, path: "app" } } })).toEqual(
      [],
    );
    expect(
      check("STATEFUL-PREVENT-DESTROY", { gitlab_group: { g: { path: "example" } }, gitlab_project: { p: { path: "app", archive_on_destroy: true } } }),
    ).toEqual([
      "test/g: set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)",
      "test/p: set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)",
    ]);
  });

  it("DOCKER-DATA-PERSISTED: bind mounts and labelled named volumes only", () => {
    const good = {
      docker_container: {
        c: {
          volumes: [
            { host_path: "/srv/gitlab/x", container_path: "/x" },
            { volume_name: "nfs", container_path: "/nfs" },
          ],
        },
      },
      docker_volume: { nfs: { labels: [{ label: "gitlab-platform.keep", value: "true" }] } },
    };
    expect(check("DOCKER-DATA-PERSISTED", good)).toEqual([]);
    expect(check("DOCKER-DATA-PERSISTED", { docker_container: { c: { volumes: [{ container_path: "/data" }] } }, docker_volume: { v: {} } })).toEqual([
      "test/c: /data is an anonymous volume: bind-mount a host directory under the data root",
      "test/v: label the volume gitlab-platform.keep=true so the Docker cleanup skips it",
    ]);
  });

  it("STATEFUL-PREVENT-DESTROY: Docker volumes whose data lives in the volume; not NFS/CIFS mounts or binds, whose data lives elsewhere", () => {
    const keep = { lifecycle: { prevent_destroy: true } };
    const nfs = { driver: "local", driver_opts: { type: "nfs", o: "addr=nas,nfsvers=4.1,rw", device: ":/mnt/tank/backups" } };
    const bind = { driver_opts: { type: "none", o: "bind", device: "/srv/data" } };
    expect(
      check("STATEFUL-PREVENT-DESTROY", { docker_volume: { local: { name: "pg", ...keep }, nfs: { name: "n", ...nfs }, bind: { name: "b", ...bind } } }),
    ).toEqual([]);
    expect(
      check("STATEFUL-PREVENT-DESTROY", {
        docker_volume: {
          local: { name: "pg" },
          plain: { name: "p", driver: "local" },
          plugin: { name: "x", driver: "rexray/ebs", driver_opts: { type: "nfs" } },
        },
      }),
    ).toEqual([
      "test/local: set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)",
      "test/plain: set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)",
      "test/plugin: set lifecycle.prevent_destroy = true (remove it deliberately to retire the resource)",
    ]);
  });

  it("DOCKER-IMAGE-PINNED: a container's literal image is checked like a docker_image", () => {
    const containers = (...images: string[]) => ({
      docker_image: { pinned: { name: "traefik:v3.5.3" } },
      docker_container: Object.fromEntries(images.map((image, i) => [`c${i}`, { name: `c${i}`, image }])),
    });
    expect(check("DOCKER-IMAGE-PINNED", containers(ref("docker_image", "pinned", "image_id"), "redis:7.4.1", `redis@sha256:${"b".repeat(64)}`))).toEqual([]);
    expect(check("DOCKER-IMAGE-PINNED", containers("redis", "redis:latest", "registry.example.com:5000/a/b", "redis:${var.tag}"))).toEqual([
      'test/c0: image "redis" must pin a version tag or digest (never latest or untagged)',
      'test/c1: image "redis:latest" must pin a version tag or digest (never latest or untagged)',
      'test/c2: image "registry.example.com:5000/a/b" must pin a version tag or digest (never latest or untagged)',
      'test/c3: image "redis:${var.tag}" is not a docker_image of this stack, so its pin cannot be checked: reference a docker_image with a pinned name',
    ]);
  });

  it("DOCKER-PUBLISHED-PORTS: no container on the host's network, which publishes every port", () => {
    expect(check("DOCKER-PUBLISHED-PORTS", { docker_container: { c: { name: "prometheus", network_mode: "bridge" }, d: { name: "grafana" } } })).toEqual([]);
    const host = 'network_mode "host" publishes every port the container listens on: join the platform network and publish ports explicitly';
    expect(
      check("DOCKER-PUBLISHED-PORTS", { docker_container: { c: { name: "prometheus", network_mode: "host" }, t: { name: "traefik", network_mode: "host" } } }),
    ).toEqual([`test/c: ${host}`, `test/t: ${host}`]);
  });

  it("DOCKER-IMAGE-PINNED: a version tag or a digest", () => {
    const images = (...names: string[]) => ({ docker_image: Object.fromEntries(names.map((n, i) => [`i${i}`, { name: n }])) });
    expect(check("DOCKER-IMAGE-PINNED", images("traefik:v3.5.3", "registry.example.com:5000/a/b:1.2", `alpine@sha256:${"a".repeat(64)}`))).toEqual([]);
    expect(check("DOCKER-IMAGE-PINNED", images("alpine", "alpine:latest", "registry.example.com:5000/a/b"))).toHaveLength(3);
  });

  it("DOCKER-CAPABILITIES: no capability beyond Docker's default set (NET_ADMIN, SYS_ADMIN… change the host)", () => {
    expect(
      check("DOCKER-CAPABILITIES", {
        docker_container: { c: { name: "grafana", capabilities: [{ drop: ["ALL"], add: ["DAC_OVERRIDE"] }] }, d: { name: "x" } },
      }),
    ).toEqual([]);
    expect(check("DOCKER-CAPABILITIES", { docker_container: { c: { name: "x", capabilities: [{ add: ["NET_ADMIN", "CHOWN", "CAP_SYS_ADMIN"] }] } } })).toEqual([
      "test/c: capability NET_ADMIN is not in Docker's default set: remove it, or suppress with the reason the container needs it",
      "test/c: capability SYS_ADMIN is not in Docker's default set: remove it, or suppress with the reason the container needs it",
    ]);
    expect(check("DOCKER-CAPABILITIES", { docker_container: { c: { name: "x", capabilities: { add: ["ALL"] } } } })).toHaveLength(1);
  });

  it("DOCKER-NO-PRIVILEGED: platform containers are never privileged", () => {
    expect(check("DOCKER-NO-PRIVILEGED", { docker_container: { c: { privileged: false } } })).toEqual([]);
    expect(check("DOCKER-NO-PRIVILEGED", { docker_container: { c: { privileged: true } } })).toEqual(["test/c: remove privileged = true"]);
  });

  it("DOCKER-PUBLISHED-PORTS: Traefik's 80/443 and GitLab's git SSH port only", () => {
    const containers = (extra: Record<string, unknown> = {}) => ({
      docker_container: {
        t: {
          name: "traefik",
          ports: [
            { internal: 80, external: 80 },
            { internal: 443, external: 443 },
          ],
        },
        g: { name: "gitlab", ports: [{ internal: 22, external: 2222 }] },
        ...extra,
      },
    });
    expect(check("DOCKER-PUBLISHED-PORTS", containers(), 2222)).toEqual([]);
    expect(check("DOCKER-PUBLISHED-PORTS", containers({ p: { name: "prometheus", ports: [{ internal: 9090, external: 9090 }] } }), 2222)).toEqual([
      "test/p: port 9090 is published: route it through Traefik or keep it on the private network",
    ]);
    expect(check("DOCKER-PUBLISHED-PORTS", containers(), 22)).toHaveLength(1);
  });

  it("a suppression switches a rule off for exactly one resource, never a subtree or a stack", () => {
    const stack = view({ aws_instance: { i: {} }, aws_launch_template: { lt: {} } });
    const suppression = { rule: "AWS-EC2-IMDSV2", path: "test/i", reason: "legacy agent needs IMDSv1 until it is replaced" };
    const imds = (s: (typeof suppression)[]) =>
      evaluatePolicies(stack, s)
        .violations.filter((v) => v.rule.id === "AWS-EC2-IMDSV2")
        .map((v) => v.resource.path);
    expect(imds([suppression])).toEqual(["test/lt"]);
    expect(imds([{ ...suppression, path: "test" }])).toEqual(["test/i", "test/lt"]);
    expect(imds([{ ...suppression, rule: "AWS-EBS-ENCRYPTED" }])).toEqual(["test/i", "test/lt"]);
  });

  it("reports suppressions that match no violation, so none lingers to cover a future resource", () => {
    const stack = view({ aws_instance: { i: {} } });
    const used = { rule: "AWS-EC2-IMDSV2", path: "test/i", reason: "legacy agent needs IMDSv1 until it is replaced" };
    const stale = { rule: "AWS-EC2-IMDSV2", path: "test/gone", reason: "the instance this was for has been removed" };
    expect(evaluatePolicies(stack, [used, stale]).unused).toEqual([stale]);
    expect(findViolations(stack, [used, stale]).filter((v) => v.rule.id === "AWS-EC2-IMDSV2")).toEqual([]);
  });
});
