// Each policy rule with a passing and a failing case.
import { describe, expect, it } from "vitest";
import { evaluatePolicies, findViolations, RULES } from "../../policies/index";
import { view } from "./view";

const rule = (id: string) => {
  const r = RULES.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
};
const check = (id: string, resources: Parameters<typeof view>[0], port?: number) =>
  rule(id)
    .check(view(resources, port))
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
    aws_s3_bucket_lifecycle_configuration: { l: { bucket: ref("aws_s3_bucket", "b"), rule: [{ id: "e", status: "Enabled", expiration: [{ days: 14 }] }] } },
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
    ).toEqual(["test/v: unencrypted EBS: set encrypted = true", "test/i: unencrypted EBS: set root_block_device.encrypted = true", "test/lt: unencrypted EBS: encrypt /dev/xvda"]);
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

  it("AWS-S3-VERSIONED and AWS-S3-LIFECYCLE apply by purpose: the registry needs no expiry, the cache no versions", () => {
    expect(check("AWS-S3-LIFECYCLE", bucketResources("registry", ["aws_s3_bucket_lifecycle_configuration"]))).toEqual([]);
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
    expect(check("AWS-SG-INGRESS", { ...bad, aws_security_group: groups, aws_vpc_security_group_ingress_rule: { ssh: rule("server", 2222) } }, 2222)).toEqual([]);
  });

  const iam = (statement: Record<string, unknown>) => ({ aws_iam_role_policy: { p: { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Sid: "S", ...statement }] }) } } });

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
    expect(check("STATEFUL-PREVENT-DESTROY", { aws_ebs_volume: { v: {} }, aws_eip: { e: {} }, aws_s3_bucket: { b: { tags: { "gitlab-platform:purpose": "registry" } } } })).toHaveLength(3);
  });

  it("DOCKER-DATA-PERSISTED: bind mounts and labelled named volumes only", () => {
    const good = {
      docker_container: { c: { volumes: [{ host_path: "/srv/gitlab/x", container_path: "/x" }, { volume_name: "nfs", container_path: "/nfs" }] } },
      docker_volume: { nfs: { labels: [{ label: "gitlab-platform.keep", value: "true" }] } },
    };
    expect(check("DOCKER-DATA-PERSISTED", good)).toEqual([]);
    expect(check("DOCKER-DATA-PERSISTED", { docker_container: { c: { volumes: [{ container_path: "/data" }] } }, docker_volume: { v: {} } })).toEqual([
      "test/c: /data is an anonymous volume: bind-mount a host directory under the data root",
      "test/v: label the volume gitlab-platform.keep=true so the Docker cleanup skips it",
    ]);
  });

  it("DOCKER-IMAGE-PINNED: a version tag or a digest", () => {
    const images = (...names: string[]) => ({ docker_image: Object.fromEntries(names.map((n, i) => [`i${i}`, { name: n }])) });
    expect(check("DOCKER-IMAGE-PINNED", images("traefik:v3.5.3", "registry.example.com:5000/a/b:1.2", `alpine@sha256:${"a".repeat(64)}`))).toEqual([]);
    expect(check("DOCKER-IMAGE-PINNED", images("alpine", "alpine:latest", "registry.example.com:5000/a/b"))).toHaveLength(3);
  });

  it("DOCKER-NO-PRIVILEGED: platform containers are never privileged", () => {
    expect(check("DOCKER-NO-PRIVILEGED", { docker_container: { c: { privileged: false } } })).toEqual([]);
    expect(check("DOCKER-NO-PRIVILEGED", { docker_container: { c: { privileged: true } } })).toEqual(["test/c: remove privileged = true"]);
  });

  it("DOCKER-PUBLISHED-PORTS: Traefik's 80/443 and GitLab's git SSH port only", () => {
    const containers = (extra: Record<string, unknown> = {}) => ({
      docker_container: {
        t: { name: "traefik", ports: [{ internal: 80, external: 80 }, { internal: 443, external: 443 }] },
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
    const imds = (s: (typeof suppression)[]) => evaluatePolicies(stack, s).violations.filter((v) => v.rule.id === "AWS-EC2-IMDSV2").map((v) => v.resource.path);
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
