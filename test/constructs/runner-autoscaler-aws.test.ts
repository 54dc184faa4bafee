// AwsRunnerAutoscaler (runners.scaling: jobs) synthesized on its own: the worker group as GitLab
// documents it for the fleeting plugin, the one-instance manager, their network, the
// manager's least-privilege IAM, and the user data decoded the way `npm run verify` does.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing } from "cdktf";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { awsRunnersSection, type JobsRunnersConfig } from "../../config/schema/aws-runners";
import { AwsRunnerAutoscaler, type AwsRunnerAutoscalerProps } from "../../constructs/runner-fleet/aws-autoscaler/index";
import { AwsRunnerFleet } from "../../constructs/runner-fleet/aws";
import { checkCloudConfig, checkSystemdUnits } from "../../scripts/verify/checkers";
import { decodeUserData } from "../../scripts/verify/extract";
import { templateProblems } from "../../scripts/verify/terraform";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { REPO_ROOT, type SynthesizedStack } from "../helpers";

const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab-runner/token-AbCdEf";

function settings(overrides: Record<string, unknown> = {}): JobsRunnersConfig {
  const parsed = awsRunnersSection.parse({
    scaling: "jobs",
    version: "18.5.0",
    token: { secretsManagerArn: TOKEN_ARN },
    capacityPerInstance: 2,
    maxInstances: 3,
    idlePolicies: [{ periods: ["* * * * *"] }, { periods: ["* 8-18 * * mon-fri"], timezone: "Europe/Paris", idleCount: 1, idleTime: "30m" }],
    ...overrides,
  });
  if (parsed.scaling !== "jobs") throw new Error("expected jobs");
  return parsed;
}

const BASE: AwsRunnerAutoscalerProps = {
  settings: settings(),
  tokenSecretArn: TOKEN_ARN,
  namePrefix: "staging-gitlab",
  environment: "staging",
  region: "eu-west-3",
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0b00000000000000b", "subnet-0c00000000000000c"],
  cacheBucketName: "staging-gitlab-runner-cache",
  gitlabUrl: "https://gitlab.example.com",
  logRetentionDays: { runner: 30, system: 14 },
  tags: { Environment: "staging" },
};

function synth(props: Partial<AwsRunnerAutoscalerProps> = {}): SynthesizedStack {
  return JSON.parse(
    Testing.synthScope((scope) => {
      new AwsProvider(scope, "aws", { region: "eu-west-3" });
      new AwsRunnerAutoscaler(scope, "runner-fleet", { ...BASE, ...props });
    }),
  );
}

const all = (stack: SynthesizedStack, type: string): any[] => Object.values(stack.resource[type] ?? {});
/** The logical name of the resource at `path` under the construct (Testing.synthScope writes no metadata paths). */
const nameAt = (stack: SynthesizedStack, type: string, path: string): string => {
  const prefix = `runner-fleet_${path.slice(1).replace(/\//g, "_")}_`;
  const found = Object.keys(stack.resource[type] ?? {}).filter((k) => k.startsWith(prefix) && /^[A-F0-9]{8}$/.test(k.slice(prefix.length)));
  expect(found, `${type} at ${path}`).toHaveLength(1);
  return found[0]!;
};
const byPath = (stack: SynthesizedStack, type: string, path: string): any => stack.resource[type]![nameAt(stack, type, path)];
const ref = (stack: SynthesizedStack, type: string, path: string, attr: string) => `\${${type}.${nameAt(stack, type, path)}${attr ? `.${attr}` : ""}}`;

const stack = synth();
const workers = byPath(stack, "aws_autoscaling_group", "/workers/asg");
const manager = byPath(stack, "aws_autoscaling_group", "/manager/asg");
const workerLt = byPath(stack, "aws_launch_template", "/workers/launch-template");
const managerLt = byPath(stack, "aws_launch_template", "/manager/launch-template");
const cloudConfig = (lt: any) => {
  const decoded = decodeUserData(lt.user_data, true);
  if (!("text" in decoded)) throw new Error(decoded.unknown);
  return { text: decoded.text, doc: parse(decoded.text) };
};
const managerData = cloudConfig(managerLt);
const workerData = cloudConfig(workerLt);
const file = (doc: any, path: string): string => doc.write_files.find((f: any) => f.path === path)?.content;

describe("AwsRunnerAutoscaler: the worker group", () => {
  it("starts empty, leaves the desired capacity to the plugin, and never scales by itself", () => {
    expect(workers).toMatchObject({ name: "staging-gitlab-runner-workers", min_size: 0, max_size: 3, desired_capacity: 0 });
    expect(workers.lifecycle).toEqual({ ignore_changes: ["desired_capacity"] });
    expect(stack.resource.aws_autoscaling_policy).toBeUndefined();
    expect(workers.initial_lifecycle_hook).toBeUndefined();
    expect(stack.resource.aws_autoscaling_lifecycle_hook).toBeUndefined();
  });

  it("is set up as the plugin's docs ask: scale-in protection, AZRebalance suspended, no capacity rebalancing", () => {
    expect(workers.protect_from_scale_in).toBe(true);
    expect(workers.suspended_processes).toEqual(["AZRebalance"]);
    expect(workers.capacity_rebalance).toBe(false);
    // Protected instances would hold a destroy (or a switch back to scaling: cpu) forever.
    expect(workers.force_delete).toBe(true);
  });

  it("is 100 % Spot over the configured types and follows max_instances", () => {
    expect(workers.mixed_instances_policy.instances_distribution).toEqual({
      on_demand_base_capacity: 0,
      on_demand_percentage_above_base_capacity: 0,
      spot_allocation_strategy: "price-capacity-optimized",
    });
    expect(workers.mixed_instances_policy.launch_template.override).toEqual([{ instance_type: "t3a.large" }, { instance_type: "t3.large" }]);
    expect(byPath(synth({ settings: settings({ maxInstances: 8 }) }), "aws_autoscaling_group", "/workers/asg").max_size).toBe(8);
  });

  it("launches workers with no IAM role, IMDSv2 with a hop limit of 1, an encrypted volume and no public IP", () => {
    expect(workerLt.iam_instance_profile).toBeUndefined();
    expect(stack.resource.aws_iam_instance_profile).toSatisfy((p: object) => Object.keys(p).length === 1);
    expect(workerLt.metadata_options).toEqual({
      http_endpoint: "enabled",
      http_tokens: "required",
      http_put_response_hop_limit: 1,
      instance_metadata_tags: "disabled",
    });
    expect(workerLt.block_device_mappings[0].ebs).toEqual({ volume_size: 100, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" });
    expect(workerLt.network_interfaces[0]).toMatchObject({ associate_public_ip_address: "false" });
    expect(workerLt.key_name).toBeUndefined();
  });

  it("boots Amazon Linux 2023 with the setup, the readiness check and the Docker cleanup timer", () => {
    expect(workerLt.image_id).toMatch(/^\$\{data\.aws_ami\.[^.]+\.id\}$/);
    expect(workerData.doc.runcmd).toEqual([["/usr/local/sbin/runner-worker-setup"]]);
    expect(workerData.doc.write_files.map((f: any) => f.path)).toEqual([
      "/etc/systemd/system/docker-cleanup.service",
      "/etc/systemd/system/docker-cleanup.timer",
      "/usr/local/sbin/docker-cleanup",
      "/usr/local/sbin/runner-worker-setup",
      "/usr/local/bin/runner-worker-ready",
    ]);
    // Nothing of the environment on a worker: no token, no ARN, no bucket.
    expect(workerData.text).not.toMatch(/arn:aws|secretsmanager|runner-cache/);
  });
});

describe("AwsRunnerAutoscaler: the manager", () => {
  it("is a one-instance on-demand group of the configured type, replaced when it fails, drained through its termination hook", () => {
    expect(manager).toMatchObject({
      name: "staging-gitlab-runner-manager",
      min_size: 1,
      max_size: 1,
      desired_capacity: 1,
      health_check_type: "EC2",
      capacity_rebalance: false,
    });
    expect(manager.mixed_instances_policy.instances_distribution).toEqual({ on_demand_base_capacity: 1, on_demand_percentage_above_base_capacity: 100 });
    expect(manager.mixed_instances_policy.launch_template.override).toEqual([{ instance_type: "t3a.small" }]);
    expect(manager.initial_lifecycle_hook).toEqual([
      { name: "termination-wait", lifecycle_transition: "autoscaling:EC2_INSTANCE_TERMINATING", heartbeat_timeout: 600, default_result: "CONTINUE" },
    ]);
  });

  it("runs on Spot when config says so", () => {
    const spot = byPath(synth({ settings: settings({ manager: { purchaseOption: "spot" } }) }), "aws_autoscaling_group", "/manager/asg");
    expect(spot.mixed_instances_policy.instances_distribution).toEqual({
      on_demand_base_capacity: 0,
      on_demand_percentage_above_base_capacity: 0,
      spot_allocation_strategy: "price-capacity-optimized",
    });
  });

  it("requires IMDSv2 with a hop limit of 1, standard CPU credits on a burstable type, an encrypted volume and no public IP", () => {
    expect(managerLt.metadata_options).toEqual({
      http_endpoint: "enabled",
      http_tokens: "required",
      http_put_response_hop_limit: 1,
      instance_metadata_tags: "disabled",
    });
    expect(managerLt.credit_specification).toEqual({ cpu_credits: "standard" });
    expect(
      byPath(synth({ settings: settings({ manager: { instanceType: "m6a.large" } }) }), "aws_launch_template", "/manager/launch-template").credit_specification,
    ).toBeUndefined();
    expect(managerLt.block_device_mappings[0].ebs).toEqual({ volume_size: 20, volume_type: "gp3", encrypted: "true", delete_on_termination: "true" });
    expect(managerLt.network_interfaces[0]).toMatchObject({ associate_public_ip_address: "false" });
    expect(managerLt.instance_initiated_shutdown_behavior).toBe("terminate");
  });

  it("boots only once its grants, its log groups and the worker group exist", () => {
    const deps: string[] = manager.depends_on;
    expect(deps.filter((d) => d.startsWith("${aws_iam_role_policy.")).length).toBe(4);
    expect(deps.filter((d) => d.startsWith("${aws_cloudwatch_log_group.")).length).toBe(2);
    expect(deps).toContain(ref(stack, "aws_autoscaling_group", "/workers/asg", ""));
  });

  it("renders config.toml for docker-autoscaler: concurrent = max_instances × capacity_per_instance, the pinned plugin on the worker group, the policies", () => {
    const toml = parseToml(file(managerData.doc, "/etc/gitlab-runner/config.toml.template")) as any;
    expect(toml.concurrent).toBe(6);
    const runner = toml.runners[0];
    expect(runner).toMatchObject({ executor: "docker-autoscaler", token: "@@RUNNER_TOKEN@@", name: "staging-gitlab-runner-manager-{hostname}" });
    expect(runner.autoscaler).toMatchObject({
      plugin: "aws:1.1",
      capacity_per_instance: 2,
      max_use_count: 20,
      max_instances: 3,
      plugin_config: { name: "staging-gitlab-runner-workers" },
      connector_config: { username: "ec2-user", use_external_addr: false, protocol: "ssh" },
    });
    expect(runner.autoscaler.policy.map((p: any) => [p.periods, p.timezone, p.idle_count, p.idle_time])).toEqual([
      [["* * * * *"], "UTC", 0, "20m"],
      [["* 8-18 * * mon-fri"], "Europe/Paris", 1, "30m"],
    ]);
    expect(runner.cache.s3.BucketName).toBe(ref(stack, "aws_s3_bucket", "/cache/bucket", "bucket"));
  });

  it("gives the runner service the plugin's region and path, and installs no Docker", () => {
    expect(file(managerData.doc, "/etc/systemd/system/gitlab-runner.service.d/fleeting.conf")).toBe(
      "[Service]\nEnvironment=AWS_REGION=eu-west-3\nEnvironment=FLEETING_PLUGIN_PATH=/var/lib/gitlab-runner/fleeting-plugins\n",
    );
    expect(managerData.doc.runcmd).toEqual([["/usr/local/sbin/runner-manager-bootstrap"]]);
    expect(managerData.doc.write_files.map((f: any) => f.path)).not.toContain("/etc/systemd/system/docker-cleanup.timer");
    expect(templateProblems(managerLt.user_data)).toEqual([]);
  });
});

describe("AwsRunnerAutoscaler: network", () => {
  const sgs = all(stack, "aws_security_group");
  const managerSg = sgs.find((g) => g.name === "staging-gitlab-runner-manager");
  const workerSg = sgs.find((g) => g.name === "staging-gitlab-runner-workers");

  it("lets nothing in to the manager, and only SSH from the manager's group in to the workers", () => {
    expect(managerSg.tags["gitlab-platform:role"]).toBe("runner-manager");
    expect(workerSg.tags["gitlab-platform:role"]).toBe("runner-worker");
    const ingress = all(stack, "aws_vpc_security_group_ingress_rule");
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ ip_protocol: "tcp", from_port: 22, to_port: 22 });
    expect(ingress[0].security_group_id).toBe(ref(stack, "aws_security_group", "/workers/sg", "id"));
    expect(ingress[0].referenced_security_group_id).toBe(ref(stack, "aws_security_group", "/manager/sg", "id"));
    expect(ingress[0].cidr_ipv4).toBeUndefined();
  });

  it("lets the manager out on HTTPS, HTTP, DNS and SSH to the workers only; the workers on HTTPS, HTTP, DNS", () => {
    const egress = (sg: string) =>
      all(stack, "aws_vpc_security_group_egress_rule")
        .filter((r) => r.security_group_id === ref(stack, "aws_security_group", `/${sg}/sg`, "id"))
        .map((r) => `${r.ip_protocol}/${r.from_port} ${r.cidr_ipv4 ?? r.referenced_security_group_id}`)
        .sort();
    expect(egress("manager")).toEqual([
      `tcp/22 ${ref(stack, "aws_security_group", "/workers/sg", "id")}`,
      "tcp/443 0.0.0.0/0",
      "tcp/53 0.0.0.0/0",
      "tcp/80 0.0.0.0/0",
      "udp/53 0.0.0.0/0",
    ]);
    expect(egress("workers")).toEqual(["tcp/443 0.0.0.0/0", "tcp/53 0.0.0.0/0", "tcp/80 0.0.0.0/0", "udp/53 0.0.0.0/0"]);
  });
});

describe("AwsRunnerAutoscaler: IAM (the manager's role; workers have none)", () => {
  const policies = all(stack, "aws_iam_role_policy");
  const statements = (name: string): any[] => JSON.parse(policies.find((p) => p.name === name).policy).Statement;

  it("is the only role, with exactly its own policies", () => {
    expect(all(stack, "aws_iam_role").map((r) => r.name)).toEqual(["staging-gitlab-runner-manager"]);
    expect(policies.map((p) => p.name).sort()).toEqual(["drive-runner-workers", "gitlab-runner-manager", "runner-cache", "ssm-session"]);
  });

  it("sets the desired capacity of, and terminates instances in, its own worker group only", () => {
    expect(statements("drive-runner-workers")[0]).toEqual({
      Sid: "ScaleOwnWorkerGroup",
      Effect: "Allow",
      Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      Resource: [ref(stack, "aws_autoscaling_group", "/workers/asg", "arn")],
    });
  });

  it("describes on * only what AWS cannot scope", () => {
    expect(statements("drive-runner-workers")[1]).toEqual({
      Sid: "ReadWorkerGroup",
      Effect: "Allow",
      Action: ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances", "ec2:DescribeInstances"],
      Resource: "*",
    });
  });

  it("pushes SSH keys (EC2 Instance Connect) only to its workers, only for their login user", () => {
    const connect = statements("drive-runner-workers")[2];
    expect(connect).toMatchObject({ Sid: "ConnectToOwnWorkers", Action: ["ec2-instance-connect:SendSSHPublicKey"] });
    expect(connect.Resource).toMatch(/^arn:aws:ec2:eu-west-3:\$\{data\.aws_caller_identity\.[^.]+\.account_id\}:instance\/\*$/);
    expect(connect.Condition).toEqual({
      StringEquals: { "ec2:ResourceTag/aws:autoscaling:groupName": "staging-gitlab-runner-workers", "ec2:osuser": "ec2-user" },
    });
  });

  it("grants every action the AWS plugin calls for Linux workers, on the resource kind its README names (test/fixtures)", () => {
    const needed = readFileSync(join(REPO_ROOT, "test/fixtures/fleeting-plugin-aws-iam.txt"), "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(" "))
      .filter(([, , os]) => os !== "windows");
    const drive = statements("drive-runner-workers");
    const kind = (s: any) => (s.Resource === "*" ? "any" : s.Condition ? "instance" : "group");
    const granted = new Set(drive.flatMap((s) => s.Action.map((a: string) => `${a} ${kind(s)}`)));
    expect(needed.map(([action, resource]) => `${action} ${resource}`).filter((a) => !granted.has(a))).toEqual([]);
    // Windows workers are not built: no password retrieval.
    expect(drive.flatMap((s) => s.Action)).not.toContain("ec2:GetPasswordData");
  });

  it("reads its token, completes its own group's termination hook, writes its logs and metrics", () => {
    const own = statements("gitlab-runner-manager");
    expect(own.map((s) => s.Sid)).toEqual(["RunnerToken", "OwnGroupLifecycle", "OwnLogGroups", "AgentMetrics", "ReportBootstrapFailure"]);
    expect(own[0].Resource).toEqual([TOKEN_ARN]);
    expect(own[1]).toMatchObject({ Action: ["autoscaling:CompleteLifecycleAction"], Resource: [ref(stack, "aws_autoscaling_group", "/manager/asg", "arn")] });
  });

  it("reaches the cache bucket (it presigns the workers' cache URLs)", () => {
    expect(statements("runner-cache").map((s) => [s.Action, s.Resource])).toEqual([
      [["s3:ListBucket"], [ref(stack, "aws_s3_bucket", "/cache/bucket", "arn")]],
      [["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [`${ref(stack, "aws_s3_bucket", "/cache/bucket", "arn")}/*`]],
    ]);
  });
});

describe("switching runners.scaling keeps the cache bucket and the log groups", () => {
  it("creates them at the same addresses as the cpu fleet, and nothing else there under the same name", () => {
    const cpu = JSON.parse(
      Testing.synthScope((scope) => {
        new AwsProvider(scope, "aws", { region: "eu-west-3" });
        const cpuSettings = awsRunnersSection.parse({ version: "18.5.0", token: { secretsManagerArn: TOKEN_ARN }, instanceTypes: ["t3a.large"] });
        if (cpuSettings.scaling !== "cpu") throw new Error("expected cpu");
        new AwsRunnerFleet(scope, "runner-fleet", { ...BASE, settings: cpuSettings });
      }),
    ) as SynthesizedStack;
    for (const type of ["aws_s3_bucket", "aws_cloudwatch_log_group", "aws_s3_bucket_lifecycle_configuration"]) {
      expect(Object.keys(stack.resource[type]!), type).toEqual(Object.keys(cpu.resource[type]!));
      expect(Object.values(stack.resource[type]!).map((r: any) => r.bucket ?? r.name ?? "")).toEqual(
        Object.values(cpu.resource[type]!).map((r: any) => r.bucket ?? r.name ?? ""),
      );
    }
    // Everything the two modes name differently: created and destroyed in one apply without a clash.
    const names = (s: SynthesizedStack, type: string) => all(s, type).map((r) => r.name ?? r.name_prefix);
    for (const type of ["aws_autoscaling_group", "aws_security_group", "aws_iam_role", "aws_iam_instance_profile"]) {
      expect(
        names(stack, type).filter((n) => names(cpu, type).includes(n)),
        type,
      ).toEqual([]);
    }
  });
});

const strict = isStrict();
describe("AwsRunnerAutoscaler: generated artifacts pass their validators", () => {
  it.skipIf(!strict && !findTool("cloud-init"))("both user data documents pass cloud-init schema", async () => {
    for (const [what, data] of [
      ["manager", managerData],
      ["worker", workerData],
    ] as const) {
      const result = await checkCloudConfig(data.text, `${what} user_data`);
      expect(result.findings, what).toEqual([]);
      expect(result.status, what).toBe("ok");
    }
  });

  it.skipIf(!strict && !findTool("systemd-analyze"))("their systemd units and drop-ins pass systemd-analyze verify", async () => {
    for (const data of [managerData, workerData]) {
      const units = data.doc.write_files
        .filter((f: any) => /\.(service|timer|conf)$/.test(f.path) && f.path.includes("/systemd/"))
        .map((f: any) => ({ path: f.path, content: f.content }));
      const results = await checkSystemdUnits(units);
      expect(results.size).toBe(units.length);
      for (const [path, result] of results) {
        expect(result.findings, path).toEqual([]);
        expect(result.status, path).toBe("ok");
      }
    }
  });
});

describe("AwsRunnerAutoscaler: refuses what cannot work", () => {
  it("needs a private subnet and a usable name prefix", () => {
    expect(() => synth({ subnetIds: [] })).toThrow(/at least one private subnet/);
    expect(() => synth({ namePrefix: "Staging_GitLab" })).toThrow(/lower-case letters, digits and dashes/);
  });
});
