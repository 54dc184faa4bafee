// AwsRunnerFleet synthesized on its own, with the reference AWS installation's staging values; every property of
// the runner module asserted on the JSON, the user data decoded the way `npm run verify` does.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing } from "cdktf";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { awsRunnersSection, type CpuRunnersConfig } from "../../config/schema/aws-runners";
import { gzippedUserDataBytes } from "../../constructs/ec2-user-data";
import { AwsRunnerFleet, type AwsRunnerFleetProps } from "../../constructs/runner-fleet/aws";
import { checkCloudConfig, checkSystemdUnits } from "../../scripts/verify/checkers";
import { decodeUserData, extractArtifacts } from "../../scripts/verify/extract";
import { templateProblems } from "../../scripts/verify/terraform";
import { findTool, isStrict } from "../../scripts/verify/tools";
import type { SynthesizedStack } from "../helpers";

const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab-runner/token-AbCdEf";
const BASE: Omit<AwsRunnerFleetProps, "settings"> = {
  namePrefix: "staging-gitlab",
  environment: "staging",
  region: "eu-west-3",
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0b00000000000000b", "subnet-0c00000000000000c"],
  gitlabUrl: "https://gitlab.example.com",
  cacheBucketName: "staging-gitlab-runner-cache",
  logRetentionDays: { runner: 30, system: 14 },
  tags: { Environment: "staging" },
  tokenSecretArn: TOKEN_ARN,
};
/** runners: in cpu mode as config/schema/aws-runners.ts defaults it, with a job memory of 3g. */
const SETTINGS = cpuSettings();

function cpuSettings(): CpuRunnersConfig {
  const parsed = awsRunnersSection.parse({ version: "18.5.0", token: { secretsManagerArn: TOKEN_ARN }, jobMemory: "3g" });
  if (parsed.scaling !== "cpu") throw new Error("expected cpu");
  return parsed;
}

type FleetOverrides = Partial<Omit<AwsRunnerFleetProps, "settings">> & { readonly settings?: Partial<CpuRunnersConfig> };

function synth(overrides: FleetOverrides = {}): SynthesizedStack {
  const { settings, ...props } = overrides;
  return JSON.parse(
    Testing.synthScope((scope) => {
      new AwsProvider(scope, "aws", { region: "eu-west-3" });
      new AwsRunnerFleet(scope, "runners", { ...BASE, ...props, settings: { ...SETTINGS, ...settings } });
    }),
  );
}
function all(stack: SynthesizedStack, type: string): any[] {
  return Object.values(stack.resource[type] ?? {});
}
function one(stack: SynthesizedStack, type: string): any {
  const r = all(stack, type);
  expect(r, type).toHaveLength(1);
  return r[0];
}

const stack = synth();
const lt = one(stack, "aws_launch_template");
const asg = one(stack, "aws_autoscaling_group");
const bucketRef = /\$\{aws_s3_bucket\.[^.]+\.bucket\}/;
const decoded = decodeUserData(lt.user_data, true);
if (!("text" in decoded)) throw new Error(`user data not decodable offline: ${decoded.unknown}`);
const userData = decoded.text;
const cloudConfig = parse(userData);
const file = (path: string): string => {
  const f = cloudConfig.write_files.find((w: any) => w.path === path);
  if (!f) throw new Error(`no ${path} in write_files`);
  return f.content;
};

describe("AwsRunnerFleet: launch template", () => {
  it("boots the most recent Amazon Linux 2023 AMI, looked up from Amazon", () => {
    const ami = Object.values(stack.data!.aws_ami!)[0] as any;
    expect(ami).toMatchObject({ owners: ["amazon"], most_recent: true });
    expect(ami.filter).toContainEqual({ name: "name", values: ["al2023-ami-2023.*-x86_64"] });
    expect(lt.image_id).toMatch(/^\$\{data\.aws_ami\.[^.]+\.id\}$/);
  });

  it("requires IMDSv2 with a hop limit of 1, so job containers cannot reach the role", () => {
    expect(lt.metadata_options).toEqual({
      http_endpoint: "enabled",
      http_tokens: "required",
      http_put_response_hop_limit: 1,
      instance_metadata_tags: "disabled",
    });
  });

  it("has an encrypted 100 GB gp3 root volume, no key pair and no public IP", () => {
    expect(lt.block_device_mappings).toEqual([
      {
        device_name: expect.stringMatching(/^\$\{data\.aws_ami\.[^.]+\.root_device_name\}$/),
        ebs: { volume_size: 100, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" },
      },
    ]);
    expect(synth({ settings: { rootVolumeGb: 250 } }).resource.aws_launch_template).toSatisfy(
      (r: any) => (Object.values(r)[0] as any).block_device_mappings[0].ebs.volume_size === 250,
    );
    expect(lt.key_name).toBeUndefined();
    expect(lt.network_interfaces).toEqual([
      {
        device_index: 0,
        associate_public_ip_address: "false",
        delete_on_termination: "true",
        security_groups: [expect.stringMatching(/^\$\{aws_security_group\./)],
      },
    ]);
    expect(lt.vpc_security_group_ids).toBeUndefined();
  });

  it("runs with the fleet's instance profile", () => {
    expect(lt.iam_instance_profile).toEqual({ arn: expect.stringMatching(/^\$\{aws_iam_instance_profile\.[^.]+\.arn\}$/) });
    expect(one(stack, "aws_iam_instance_profile").role).toMatch(/^\$\{aws_iam_role\./);
  });

  it("hands gzipped base64 user data to EC2, encoded by Terraform around the bucket's name", () => {
    expect(lt.user_data).toMatch(/^\$\{base64gzip\(join\("", \[".*"\]\)\)\}$/s);
    expect(templateProblems(lt.user_data)).toEqual([]);
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    expect(userData).toMatch(bucketRef);
  });
});

describe("AwsRunnerFleet: Auto Scaling group", () => {
  it("is 100 % Spot over the configured types, price-capacity-optimized, with capacity rebalancing", () => {
    expect(asg.mixed_instances_policy.instances_distribution).toEqual({
      on_demand_base_capacity: 0,
      on_demand_percentage_above_base_capacity: 0,
      spot_allocation_strategy: "price-capacity-optimized",
    });
    expect(asg.mixed_instances_policy.launch_template.override).toEqual([{ instance_type: "t3a.large" }, { instance_type: "t3.large" }]);
    expect(asg.mixed_instances_policy.launch_template.launch_template_specification).toEqual({
      launch_template_id: expect.stringMatching(/^\$\{aws_launch_template\.[^.]+\.id\}$/),
      version: expect.stringMatching(/^\$\{aws_launch_template\.[^.]+\.latest_version\}$/),
    });
    expect(asg.capacity_rebalance).toBe(true);
    expect(asg.instance_refresh).toBeUndefined();
  });

  it("runs in the private subnets with the reference AWS installation's sizes 1/3/1, and keeps autoscaling's desired capacity", () => {
    expect(asg).toMatchObject({ name: "staging-gitlab-runner", min_size: 1, max_size: 3, desired_capacity: 1 });
    expect(asg.vpc_zone_identifier).toEqual(BASE.subnetIds);
    expect(asg.lifecycle).toEqual({ ignore_changes: ["desired_capacity"] });
    const sized = one(synth({ settings: { minSize: 2, maxSize: 6, desiredCapacity: 4 } }), "aws_autoscaling_group");
    expect(sized).toMatchObject({ min_size: 2, max_size: 6, desired_capacity: 4 });
  });

  it("publishes the group metrics the 'runners at maximum' alarm reads", () => {
    expect(asg.enabled_metrics).toContain("GroupInServiceInstances");
  });

  it("declares the 600 s termination-wait hook on the group itself, so the first instances have it", () => {
    expect(asg.initial_lifecycle_hook).toEqual([
      { name: "termination-wait", lifecycle_transition: "autoscaling:EC2_INSTANCE_TERMINATING", heartbeat_timeout: 600, default_result: "CONTINUE" },
    ]);
    expect(stack.resource.aws_autoscaling_lifecycle_hook).toBeUndefined();
  });

  it("propagates its tags, Name included, to the instances", () => {
    expect(asg.tag).toContainEqual({ key: "Name", value: "staging-gitlab-runner", propagate_at_launch: true });
    expect(asg.tag).toContainEqual({ key: "Environment", value: "staging", propagate_at_launch: true });
  });

  it("takes a failed runner out at once: it powers itself off (terminate), which Auto Scaling acts on even within a deliberate grace period", () => {
    expect(lt.instance_initiated_shutdown_behavior).toBe("terminate");
    expect(asg.health_check_type).toBe("EC2");
    expect(asg.health_check_grace_period).toBe(120);
  });

  it("launches instances only once their policies and log groups exist", () => {
    expect(asg.depends_on.filter((d: string) => d.startsWith("aws_iam_role_policy."))).toHaveLength(2);
    expect(asg.depends_on.filter((d: string) => d.startsWith("aws_cloudwatch_log_group."))).toHaveLength(2);
  });

  it("scales on average CPU with a 60 % target", () => {
    const policy = one(stack, "aws_autoscaling_policy");
    expect(policy.policy_type).toBe("TargetTrackingScaling");
    expect(policy.autoscaling_group_name).toMatch(/^\$\{aws_autoscaling_group\.[^.]+\.name\}$/);
    expect(policy.target_tracking_configuration).toEqual({
      predefined_metric_specification: { predefined_metric_type: "ASGAverageCPUUtilization" },
      target_value: 60,
    });
    expect(one(synth({ settings: { cpuTargetPercent: 45 } }), "aws_autoscaling_policy").target_tracking_configuration.target_value).toBe(45);
  });
});

describe("AwsRunnerFleet: IAM", () => {
  const role = one(stack, "aws_iam_role");
  const policies = all(stack, "aws_iam_role_policy");
  const statements: any[] = JSON.parse(policies.find((p) => p.name === "gitlab-runner").policy).Statement;
  const bySid = (sid: string) => statements.find((s) => s.Sid === sid);

  it("is assumed by EC2, with Session Manager's own actions only (no SSH): no managed policy, no SSM parameter", () => {
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    // AmazonSSMManagedInstanceCore grants ssm:GetParameter(s) on every parameter of the
    // account, and every job with the Docker socket reaches this role.
    expect(stack.resource.aws_iam_role_policy_attachment).toBeUndefined();
    const session = JSON.parse(policies.find((p) => p.name === "ssm-session").policy).Statement;
    expect(session).toEqual([
      {
        Sid: "SessionManager",
        Effect: "Allow",
        Action: [
          "ssm:UpdateInstanceInformation",
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ],
        Resource: "*",
      },
    ]);
    expect(JSON.stringify(policies)).not.toMatch(/ssm:GetParameter|ssm:\*/);
  });

  it("has exactly the seven statements of the fleet, all Allow, no wildcard action", () => {
    expect(statements.map((s) => s.Sid)).toEqual([
      "CacheBucketList",
      "CacheObjects",
      "OwnLogGroups",
      "RunnerToken",
      "OwnGroupLifecycle",
      "AgentMetrics",
      "ReportBootstrapFailure",
    ]);
    for (const s of statements) {
      expect(s.Effect).toBe("Allow");
      for (const action of s.Action) expect(action).not.toContain("*");
    }
  });

  it("lists only its cache bucket and reads/writes/deletes only its objects", () => {
    expect(bySid("CacheBucketList")).toMatchObject({ Action: ["s3:ListBucket"], Resource: [expect.stringMatching(/^\$\{aws_s3_bucket\.[^.]+\.arn\}$/)] });
    expect(bySid("CacheObjects")).toMatchObject({
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: [expect.stringMatching(/^\$\{aws_s3_bucket\.[^.]+\.arn\}\/\*$/)],
    });
  });

  it("writes only to its two log groups", () => {
    const s = bySid("OwnLogGroups");
    expect(s.Action).toEqual(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
    expect(s.Resource).toHaveLength(4);
    for (const group of ["log-runner", "log-system"]) {
      const arn = `\${aws_cloudwatch_log_group.${Object.keys(stack.resource.aws_cloudwatch_log_group!).find((k) => k.includes(group))}.arn}`;
      expect(s.Resource).toContain(arn);
      expect(s.Resource).toContain(`${arn}:*`);
    }
  });

  it("reads exactly its token secret", () => {
    expect(bySid("RunnerToken")).toMatchObject({ Action: ["secretsmanager:GetSecretValue"], Resource: [TOKEN_ARN] });
  });

  it("completes lifecycle actions in its own group only, and cannot mark any runner unhealthy", () => {
    // SetInstanceHealth names no instance IAM could check against the caller: a job on one
    // runner could take its siblings down. A failed bootstrap powers its own instance off.
    expect(JSON.stringify(stack)).not.toContain("SetInstanceHealth");
    expect(bySid("OwnGroupLifecycle")).toMatchObject({
      Action: ["autoscaling:CompleteLifecycleAction"],
      Resource: [
        expect.stringMatching(
          /^arn:aws:autoscaling:eu-west-3:\$\{data\.aws_caller_identity\.[^.]+\.account_id\}:autoScalingGroup:\*:autoScalingGroupName\/staging-gitlab-runner$/,
        ),
      ],
    });
  });

  it("puts metrics only in the CloudWatch agent's namespace and the bootstrap's (the action has no resource-level scoping)", () => {
    expect(bySid("AgentMetrics")).toEqual({
      Sid: "AgentMetrics",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricData"],
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": "CWAgent" } },
    });
    expect(bySid("ReportBootstrapFailure")).toEqual({
      Sid: "ReportBootstrapFailure",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricData"],
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": "GitLab/Bootstrap" } },
    });
  });
});

describe("AwsRunnerFleet: network", () => {
  it("has no ingress and exactly HTTPS, HTTP and DNS (tcp+udp) egress", () => {
    expect(stack.resource.aws_vpc_security_group_ingress_rule).toBeUndefined();
    const sg = one(stack, "aws_security_group");
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    expect(sg.vpc_id).toBe(BASE.vpcId);
    // The ingress policy refuses any ingress rule on a group tagged as the runners'.
    expect(sg.tags["gitlab-platform:role"]).toBe("runner");
    const egress = all(stack, "aws_vpc_security_group_egress_rule").map((r) => `${r.ip_protocol}/${r.from_port}-${r.to_port} ${r.cidr_ipv4}`);
    expect(egress.sort()).toEqual(["tcp/443-443 0.0.0.0/0", "tcp/53-53 0.0.0.0/0", "tcp/80-80 0.0.0.0/0", "udp/53-53 0.0.0.0/0"]);
  });
});

describe("AwsRunnerFleet: S3 cache", () => {
  const bucket = one(stack, "aws_s3_bucket");

  it("is a disposable bucket with the configured name: force_destroy, no prevent_destroy, tagged as a cache", () => {
    expect(bucket.bucket).toBe("staging-gitlab-runner-cache");
    expect(bucket.tags).toEqual({ "gitlab-platform:purpose": "cache" });
    expect(bucket.force_destroy).toBe(true);
    expect(bucket.lifecycle).toBeUndefined();
  });

  it("expires objects after cacheExpirationDays (14) and aborts stale uploads", () => {
    const rules = one(stack, "aws_s3_bucket_lifecycle_configuration").rule;
    expect(rules).toContainEqual({ id: "expire-objects", status: "Enabled", filter: [{ prefix: "" }], expiration: [{ days: 14 }] });
    expect(rules.map((r: any) => r.id)).toContain("abort-incomplete-uploads");
    const seven = one(synth({ settings: { cacheExpirationDays: 7 } }), "aws_s3_bucket_lifecycle_configuration").rule;
    expect(seven.find((r: any) => r.id === "expire-objects").expiration).toEqual([{ days: 7 }]);
  });

  it("is encrypted with SSE-S3, private, owner-enforced and TLS-only", () => {
    expect(one(stack, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
    expect(one(stack, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(one(stack, "aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
    const policy = JSON.parse(one(stack, "aws_s3_bucket_policy").policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [expect.stringMatching(/\.arn\}$/), expect.stringMatching(/\.arn\}\/\*$/)],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });
});

describe("AwsRunnerFleet: log groups", () => {
  it("keeps runner logs 30 days and system logs 14 days by default", () => {
    const groups = all(stack, "aws_cloudwatch_log_group").map((g) => [g.name, g.retention_in_days]);
    expect(groups.sort()).toEqual([
      ["/staging/gitlab-runner/runner", 30],
      ["/staging/gitlab-runner/system", 14],
    ]);
    const custom = all(synth({ logRetentionDays: { runner: 90, system: 7 } }), "aws_cloudwatch_log_group").map((g) => g.retention_in_days);
    expect(custom.sort()).toEqual([7, 90]);
  });
});

describe("AwsRunnerFleet: user data", () => {
  it("is a cloud-config that writes the files and runs the bootstrap, and nothing else", () => {
    expect(Object.keys(cloudConfig).sort()).toEqual(["runcmd", "write_files"]);
    expect(cloudConfig.runcmd).toEqual([["/usr/local/sbin/runner-bootstrap"]]);
    expect(cloudConfig.write_files.map((f: any) => f.path).sort()).toEqual([
      "/etc/gitlab-runner-fleet/bootstrap.env",
      "/etc/gitlab-runner-fleet/cloudwatch-agent.json",
      "/etc/gitlab-runner/config.toml.template",
      "/etc/logrotate.d/gitlab-runner",
      "/etc/systemd/system/docker-cleanup.service",
      "/etc/systemd/system/docker-cleanup.timer",
      "/etc/systemd/system/gitlab-runner.service.d/log-file.conf",
      "/etc/systemd/system/runner-token-sync.service",
      "/etc/systemd/system/runner-token-sync.timer",
      "/etc/systemd/system/spot-interruption-watcher.service",
      "/usr/local/sbin/docker-cleanup",
      "/usr/local/sbin/runner-bootstrap",
      "/usr/local/sbin/runner-termination-handler",
      "/usr/local/sbin/runner-token-sync",
      "/usr/local/sbin/spot-interruption-watcher",
    ]);
  });

  it("installs the pinned runner and fetches exactly its token secret", () => {
    expect(file("/etc/gitlab-runner-fleet/bootstrap.env")).toBe(
      `RUNNER_VERSION=18.5.0\nAWS_REGION=eu-west-3\nTOKEN_SECRET_ID=${TOKEN_ARN}\nMETRIC_HOST=staging-gitlab-runner\n`,
    );
  });

  it("writes the reference AWS installation's config.toml with a token placeholder, never a token", () => {
    const template = file("/etc/gitlab-runner/config.toml.template");
    const toml = parseToml(template) as any;
    expect(toml).toMatchObject({ concurrent: 2, listen_address: "127.0.0.1:9252" });
    const [runner] = toml.runners;
    expect(runner).toMatchObject({
      url: "https://gitlab.example.com",
      token: "@@RUNNER_TOKEN@@",
      executor: "docker",
      name: "staging-gitlab-runner-{hostname}",
    });
    expect(runner.docker).toMatchObject({
      image: "node:20-alpine",
      privileged: true,
      pull_policy: ["if-not-present"],
      volumes: ["/cache", "/var/run/docker.sock:/var/run/docker.sock"],
      memory: "3g",
      cpus: "1.5",
    });
    expect(runner.cache).toMatchObject({ Type: "s3", Shared: true, s3: { BucketLocation: "eu-west-3", AuthenticationType: "iam" } });
    expect(runner.cache.s3.BucketName).toMatch(new RegExp(`^${bucketRef.source}$`));
    expect(userData).not.toMatch(/glrt-/);
    const noSocket = decodeUserData((Object.values(synth({ settings: { dockerAccess: "none" } }).resource.aws_launch_template!)[0] as any).user_data, true);
    expect("text" in noSocket && noSocket.text).toContain('volumes = [ "/cache" ]');
  });

  it("runs Docker cleanup every 6 hours from a systemd timer, never cron", () => {
    expect(file("/etc/systemd/system/docker-cleanup.timer")).toMatch(/^OnCalendar=\*-\*-\* 00\/6:00:00$/m);
    expect(file("/etc/systemd/system/docker-cleanup.timer")).toMatch(/^Persistent=true$/m);
    expect(file("/etc/systemd/system/docker-cleanup.service")).toContain('Environment="CLEANUP_OLDER_THAN=4h"');
    expect(userData).not.toMatch(/cron/i);
  });

  it("keeps the Spot interruption watcher running and tells it its group", () => {
    const unit = file("/etc/systemd/system/spot-interruption-watcher.service");
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toContain('Environment="ASG_NAME=staging-gitlab-runner"');
    expect(unit).toContain('Environment="LIFECYCLE_HOOK_NAME=termination-wait"');
  });

  it("ships the runner and system logs to their groups, with disk and memory metrics per group", () => {
    const agent = JSON.parse(file("/etc/gitlab-runner-fleet/cloudwatch-agent.json"));
    const files = agent.logs.logs_collected.files.collect_list.map((f: any) => [f.file_path, f.log_group_name]);
    expect(files).toContainEqual(["/var/log/gitlab-runner/runner.log", "/staging/gitlab-runner/runner"]);
    expect(files).toContainEqual(["/var/log/messages", "/staging/gitlab-runner/system"]);
    expect(agent.metrics.metrics_collected.disk.append_dimensions).toEqual({ AutoScalingGroupName: "staging-gitlab-runner" });
    expect(agent.metrics.metrics_collected.mem.append_dimensions).toEqual({ AutoScalingGroupName: "staging-gitlab-runner" });
    expect(file("/etc/systemd/system/gitlab-runner.service.d/log-file.conf")).toContain("StandardError=append:/var/log/gitlab-runner/runner.log");
  });

  it("stays far under EC2's 16 KB once gzipped, even with the longest names allowed", () => {
    expect(gzippedUserDataBytes(userData)).toBeLessThan(8 * 1024);
    const longest = synth({
      namePrefix: `p${"a".repeat(40)}`,
      environment: `e${"b".repeat(30)}`,
      cacheBucketName: `c${"d".repeat(62)}`,
      gitlabUrl: `https://${"g".repeat(63)}.${"h".repeat(63)}.example.com`,
      tokenSecretArn: `arn:aws:secretsmanager:eu-west-3:111111111111:secret:${"s".repeat(200)}-AbCdEf`,
    });
    const longDecoded = decodeUserData(one(longest, "aws_launch_template").user_data, true);
    if (!("text" in longDecoded)) throw new Error(longDecoded.unknown);
    expect(longDecoded.text.length).toBeGreaterThan(userData.length + 400);
    expect(gzippedUserDataBytes(longDecoded.text)).toBeLessThan(8 * 1024);
  });

  it("is what `npm run verify` extracts from the stack", () => {
    const artifacts = extractArtifacts("test", stack);
    expect(artifacts.filter((a) => a.kind === "unchecked" && a.path === "user_data")).toEqual([]);
    const kinds = Object.fromEntries(artifacts.map((a) => [a.path, a.kind]));
    expect(kinds).toMatchObject({
      user_data: "cloud-config",
      "/usr/local/sbin/runner-bootstrap": "shell",
      "/usr/local/sbin/spot-interruption-watcher": "shell",
      "/usr/local/sbin/runner-termination-handler": "shell",
      "/etc/gitlab-runner/config.toml.template": "toml",
      "/etc/systemd/system/docker-cleanup.timer": "systemd",
    });
  });

  it("refuses impossible sizes and an unusable name prefix", () => {
    expect(() => synth({ settings: { minSize: 3, desiredCapacity: 1 } })).toThrow(/minSize <= desiredCapacity <= maxSize/);
    expect(() => synth({ namePrefix: "Staging_GitLab" })).toThrow(/lower-case letters, digits and dashes/);
    expect(() => synth({ subnetIds: [] })).toThrow(/at least one private subnet/);
  });
});

// The artifacts' own validators; skipped where they are not installed, except in CI.
const strict = isStrict();
describe("AwsRunnerFleet: generated artifacts pass their validators", () => {
  it.skipIf(!strict && !findTool("cloud-init"))("user data passes cloud-init schema", async () => {
    const result = await checkCloudConfig(userData, "runner user_data");
    expect(result.findings).toEqual([]);
    expect(result.status).toBe("ok");
  });

  it.skipIf(!strict && !findTool("systemd-analyze"))("systemd units pass systemd-analyze verify", async () => {
    const units = cloudConfig.write_files.filter((f: any) => /\.(service|timer)$/.test(f.path)).map((f: any) => ({ path: f.path, content: f.content }));
    expect(units).toHaveLength(5);
    const results = await checkSystemdUnits(units);
    for (const [path, result] of results) {
      expect(result.findings, path).toEqual([]);
      expect(result.status, path).toBe("ok");
    }
  });
});
