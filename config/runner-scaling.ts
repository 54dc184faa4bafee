// An aws environment's runners in the other scaling mode at equal peak capacity, for the cost
// command's comparison (npm run cost -- <env> --modes): the same jobs at once on the same
// instance types, everything else the same YAML, the other mode's own settings at their
// defaults. cpu → jobs: capacityPerInstance = concurrent, maxInstances = maxSize;
// jobs → cpu: concurrent = capacityPerInstance, maxSize = maxInstances (minSize and
// desiredCapacity at the default 1).
import { awsRunnersSection, type AwsRunnersConfig } from "./schema/aws-runners";

export type ScalingMode = AwsRunnersConfig["scaling"];

/** The settings both modes share, as written in the file. */
function sharedSettings(r: AwsRunnersConfig) {
  const { version, token, instanceTypes, rootVolumeGb, cacheExpirationDays, jobImage, privileged, dockerAccess, jobMemory, jobCpus } = r;
  return { version, token, instanceTypes, rootVolumeGb, cacheExpirationDays, jobImage, privileged, dockerAccess, jobMemory, jobCpus };
}

/** Jobs an environment's runners can run at once. */
export function peakJobs(r: AwsRunnersConfig): number {
  return r.scaling === "cpu" ? r.concurrent * r.maxSize : r.capacityPerInstance * r.maxInstances;
}

/** `runners` in `mode` at equal peak capacity; throws with the reason when that mode refuses them. */
export function runnersInMode(r: AwsRunnersConfig, mode: ScalingMode): AwsRunnersConfig {
  if (r.scaling === mode) return r;
  const input =
    r.scaling === "cpu"
      ? { ...sharedSettings(r), scaling: "jobs", capacityPerInstance: r.concurrent, maxInstances: r.maxSize }
      : { ...sharedSettings(r), scaling: "cpu", concurrent: r.capacityPerInstance, maxSize: r.maxInstances };
  const parsed = awsRunnersSection.safeParse(input);
  if (!parsed.success) {
    throw new Error(`the runners cannot run with scaling: ${mode}: ${parsed.error.issues.map((i) => `runners.${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
