// The aws stack's runners, by runners.scaling: the cpu fleet or the jobs-mode
// autoscaler. Each mode has one small mapping from the environment to its construct's props
// and its own alarms and outputs; both are created under the id "runner-fleet", whose cache
// bucket and log groups they share.
import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { CpuRunnersConfig, JobsRunnersConfig } from "../../config/schema/aws-runners";
import type { AwsObservability } from "../../constructs/observability/aws";
import { AwsRunnerAutoscaler, type AwsRunnerAutoscalerProps } from "../../constructs/runner-fleet/aws-autoscaler/index";
import { AwsRunnerFleet, type AwsRunnerFleetProps } from "../../constructs/runner-fleet/aws";
import type { AwsEnvironment } from "../aws-stack";

export type AwsRunners = AwsRunnerFleet | AwsRunnerAutoscaler;

/** What the runners take from the rest of the stack. */
export interface RunnerContext {
  readonly namePrefix: string;
  readonly bucketPrefix: string;
  /** GitLab's external URL. */
  readonly gitlabUrl: string;
}

/** Where both modes live, from the environment. */
function placement(env: AwsEnvironment, c: RunnerContext) {
  return {
    namePrefix: c.namePrefix,
    environment: env.name,
    region: env.aws.region,
    vpcId: env.aws.vpcId,
    subnetIds: env.aws.privateSubnetIds,
    cacheBucketName: `${c.bucketPrefix}-runner-cache`,
    gitlabUrl: c.gitlabUrl,
    logRetentionDays: { runner: env.observability.appLogRetentionDays, system: env.observability.systemLogRetentionDays },
    tags: env.aws.tags,
  };
}

export function cpuFleetProps(env: AwsEnvironment, r: CpuRunnersConfig, c: RunnerContext): AwsRunnerFleetProps {
  return { ...placement(env, c), settings: r };
}

export function autoscalerProps(env: AwsEnvironment, r: JobsRunnersConfig, c: RunnerContext): AwsRunnerAutoscalerProps {
  return { ...placement(env, c), settings: r };
}

/** The runners of the environment's mode, with their alarms. */
export function awsRunners(scope: Construct, env: AwsEnvironment, c: RunnerContext, observability: AwsObservability): AwsRunners {
  const r = env.runners;
  switch (r.scaling) {
    case "cpu": {
      const fleet = new AwsRunnerFleet(scope, "runner-fleet", cpuFleetProps(env, r, c));
      observability.watchRunners(fleet.autoScalingGroup.name, r.maxSize);
      observability.watchBootstrap("runner", fleet.bootstrapMetricHost);
      return fleet;
    }
    case "jobs": {
      const autoscaler = new AwsRunnerAutoscaler(scope, "runner-fleet", autoscalerProps(env, r, c));
      observability.watchRunnerAutoscaler(
        { manager: autoscaler.manager.autoScalingGroup.name, workers: autoscaler.workers.autoScalingGroup.name },
        r.maxInstances,
      );
      observability.watchBootstrap("runner", autoscaler.bootstrapMetricHost);
      return autoscaler;
    }
  }
}

/** The runners' outputs: the groups to recycle, the cache bucket. */
export function runnerOutputs(scope: Construct, runners: AwsRunners): void {
  if (runners instanceof AwsRunnerFleet) {
    new TerraformOutput(scope, "runner_autoscaling_group", {
      value: runners.autoScalingGroup.name,
      description: "Recycle runners: aws autoscaling start-instance-refresh --auto-scaling-group-name <this>",
    });
  } else {
    new TerraformOutput(scope, "runner_manager_group", {
      value: runners.manager.autoScalingGroup.name,
      description: "Recycle the runner manager: aws autoscaling start-instance-refresh --auto-scaling-group-name <this> (docs/operations.md, 3.3)",
    });
    new TerraformOutput(scope, "runner_worker_group", {
      value: runners.workers.autoScalingGroup.name,
      description: "The workers the manager scales; never change its desired capacity by hand",
    });
  }
  new TerraformOutput(scope, "runner_cache_bucket", { value: runners.cacheBucket.bucket });
}
