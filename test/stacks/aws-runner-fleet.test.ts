// The aws stack's runners by runners.scaling: each mode's mapping from the environment to its
// construct's props, and the stack each example synthesizes (the construct, its alarms, its
// outputs). staging runs the cpu fleet (the reference AWS installation), production the jobs-mode autoscaler.
import { describe, expect, it } from "vitest";
import { autoscalerProps, cpuFleetProps } from "../../stacks/aws/runner-fleet";
import type { AwsEnvironment } from "../../stacks/aws-stack";
import { exampleEnvironment, resources, synthEnvironment } from "../helpers";

const staging = exampleEnvironment("staging") as AwsEnvironment;
const production = exampleEnvironment("production") as AwsEnvironment;
const TOKEN_SECRET = { arn: "${aws_secretsmanager_secret.t.arn}", id: "staging-gitlab/runner-token" };
const context = { namePrefix: "x-gitlab", bucketPrefix: "x-bucket", gitlabUrl: "https://gitlab.example.com", tokenSecret: TOKEN_SECRET };

describe("runner mappings", () => {
  it("cpu: the fleet's placement from the environment, and its settings whole", () => {
    if (staging.runners.scaling !== "cpu") throw new Error("staging is cpu");
    expect(cpuFleetProps(staging, staging.runners, context)).toEqual({
      namePrefix: "x-gitlab",
      environment: "staging",
      region: "eu-west-3",
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0b00000000000000b", "subnet-0c00000000000000c"],
      cacheBucketName: "x-bucket-runner-cache",
      gitlabUrl: "https://gitlab.example.com",
      logRetentionDays: { runner: 30, system: 14 },
      tags: { Environment: "staging" },
      // The runner settings flow whole, as for the jobs-mode autoscaler.
      settings: staging.runners,
      tokenSecretArn: TOKEN_SECRET.arn,
      tokenSecretId: TOKEN_SECRET.id,
    });
  });

  it("jobs: the same placement, and the runner settings passed whole", () => {
    if (production.runners.scaling !== "jobs") throw new Error("production is jobs");
    const props = autoscalerProps(production, production.runners, context);
    expect(props.settings).toBe(production.runners);
    expect(props).toMatchObject({
      namePrefix: "x-gitlab",
      environment: "production",
      cacheBucketName: "x-bucket-runner-cache",
      subnetIds: production.aws.privateSubnetIds,
    });
  });
});

describe("the examples' stacks", () => {
  const cpu = synthEnvironment(staging);
  const jobs = synthEnvironment(production);
  const alarms = (stack: typeof cpu) => Object.fromEntries(resources(stack, "aws_cloudwatch_metric_alarm").map((a) => [a.alarm_name, a]));

  it("staging (cpu): one Spot group scaled on CPU, its alarms and output", () => {
    expect(resources(cpu, "aws_autoscaling_group").map((g) => g.name)).toEqual(["staging-gitlab-runner"]);
    expect(resources(cpu, "aws_autoscaling_policy")).toHaveLength(1);
    expect(
      Object.keys(alarms(cpu))
        .filter((n) => n.includes("runner"))
        .sort(),
    ).toEqual(["staging-gitlab-runner-bootstrap-failed", "staging-gitlab-runner-disk", "staging-gitlab-runners-at-max"]);
    expect(Object.keys(cpu.output)).toEqual(expect.arrayContaining(["runner_autoscaling_group", "runner_cache_bucket"]));
    expect(cpu.output).not.toHaveProperty("runner_manager_group");
  });

  it("production (jobs): the manager and the worker group, no scaling policy, their alarms and outputs", () => {
    expect(
      resources(jobs, "aws_autoscaling_group")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["production-gitlab-runner-manager", "production-gitlab-runner-workers"]);
    expect(resources(jobs, "aws_autoscaling_policy")).toEqual([]);
    const a = alarms(jobs);
    expect(
      Object.keys(a)
        .filter((n) => n.includes("runner"))
        .sort(),
    ).toEqual([
      "production-gitlab-runner-bootstrap-failed",
      "production-gitlab-runner-manager-disk",
      "production-gitlab-runner-manager-missing",
      "production-gitlab-runners-at-max",
    ]);
    expect(a["production-gitlab-runners-at-max"]).toMatchObject({
      threshold: 3,
      dimensions: { AutoScalingGroupName: expect.stringMatching(/runner-fleet_workers_asg/) },
    });
    expect(a["production-gitlab-runner-manager-missing"]).toMatchObject({
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
    });
    expect(a["production-gitlab-runner-bootstrap-failed"].dimensions).toEqual({ Host: "production-gitlab-runner-manager" });
    expect(Object.keys(jobs.output)).toEqual(expect.arrayContaining(["runner_manager_group", "runner_worker_group", "runner_cache_bucket"]));
    expect(jobs.output).not.toHaveProperty("runner_autoscaling_group");
  });

  it("both keep the runner log groups and the cache bucket by the same names", () => {
    const named = (stack: typeof cpu, type: string) =>
      resources(stack, type)
        .map((r) => r.name ?? r.bucket)
        .filter((n: string) => /runner/.test(n));
    expect(named(jobs, "aws_cloudwatch_log_group")).toEqual(["/production/gitlab-runner/runner", "/production/gitlab-runner/system"]);
    expect(named(cpu, "aws_cloudwatch_log_group")).toEqual(["/staging/gitlab-runner/runner", "/staging/gitlab-runner/system"]);
    expect(named(jobs, "aws_s3_bucket")).toEqual(["production-gitlab-runner-cache"]);
  });
});
