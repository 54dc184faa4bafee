// The aws platform's runners, in one of two scaling modes (runners.scaling):
//   cpu  (the default): a 100 % Spot Auto Scaling group of docker-executor runners
//        that scales on CPU (target tracking) and keeps minSize instances running;
//   jobs: one small runner manager drives a Spot worker group from the job queue with the
//        docker-autoscaler executor and GitLab's fleeting plugin for AWS: workers exist while
//        jobs wait or run (and as the idle policies ask), down to none.
// Everything else (instance types, Spot, cache, job image, privileged, memory) is the same YAML.
import { z } from "zod";
import { durationSeconds, matchesAlways, parseCronPeriod, timeZoneProblem } from "./autoscaler-schedule";
import { instanceMemoryMiB, memoryMiB, MIN_JOB_MEMORY_MIB, RUNNER_FAMILIES, RUNNER_SYSTEM_RESERVE_MIB } from "./instance-memory";
import { instanceType, memorySize, pinnedImage, runnerVersion } from "./primitives";
import { jobDockerAccess } from "./job-docker-access";
import { registrationFields } from "./runner-registration";
import { secretsManagerRef } from "./secrets";
import { retentionDays } from "./shared";

/** The fleeting plugin for AWS, major.minor: config.toml says `plugin = "aws:<this>"`. */
export const DEFAULT_FLEETING_PLUGIN_VERSION = "1.1";
/** docker-autoscaler is generally available from this runner release (plugins install from GitLab's registry since 16.11). */
export const MIN_AUTOSCALER_RUNNER = [17, 1] as const;
/** A runner manager below this much memory is refused (gitlab-runner, its plugin, the CloudWatch and SSM agents). */
export const MIN_MANAGER_MEMORY_MIB = 1024;

/** Fields both modes share, with the same meaning. */
const shared = {
  version: runnerVersion.describe("gitlab-runner package version installed on the instances (jobs: on the manager)."),
  token: secretsManagerRef
    .optional()
    .describe(
      "Manual escape hatch: a Secrets Manager secret you fill with a runner token (glrt-…) you created in GitLab yourself. Then the `<env>-gitlab` stack registers no runner. @default the `<env>-gitlab/runner-token` secret this stack creates, whose versions the `<env>-gitlab` stack writes from its gitlab_user_runner",
    ),
  // Untagged jobs run here, as on the reference AWS installation's runner (registered without tags).
  ...registrationFields({ tags: ["docker"], protected: false, runUntagged: true }),
  instanceTypes: z
    .array(instanceType)
    .min(1)
    .default(["t3a.large", "t3.large"])
    .describe("Spot instance types of the runners (jobs: of the workers), in order of preference. @default ['t3a.large', 't3.large']"),
  rootVolumeGb: z
    .int()
    .min(20)
    .max(2048)
    .default(100)
    .describe("Runner volume (jobs: each worker's); images, layers and build directories live here, shared by the jobs an instance runs at once. @default 100"),
  cacheExpirationDays: retentionDays.default(14).describe("Objects in the shared S3 cache expire after this. @default 14"),
  jobImage: pinnedImage.default("node:20-alpine").describe("Default job image. @default 'node:20-alpine'"),
  privileged: z.boolean().default(true).describe("Privileged job containers (docker builds). @default true"),
  // Was mountDockerSocket (config/deprecations.ts); the default stays what deployed runners have.
  dockerAccess: jobDockerAccess("socket"),
  jobMemory: memorySize
    .optional()
    .describe(
      "Memory limit per job container. Jobs at once on an instance (concurrent, or capacityPerInstance) × jobMemory must fit the smallest of instanceTypes, less 1 GiB for the system, Docker and the runner. @default that remainder / jobs at once (t3a.large, 2 jobs: '3584m')",
    ),
  jobCpus: z
    .string()
    .regex(/^\d+(\.\d+)?$/, "must be a number of CPUs like '1.5'")
    .default("1.5")
    .describe("@default '1.5'"),
};

const cpuRunners = z
  .strictObject({
    scaling: z.literal("cpu").optional().describe("cpu (the default): a Spot group that scales on CPU; jobs: docker-autoscaler from the job queue."),
    ...shared,
    concurrent: z.int().min(1).max(64).default(2).describe("Jobs per instance. @default 2"),
    minSize: z.int().min(0).max(100).default(1).describe("@default 1"),
    maxSize: z.int().min(1).max(100).default(3).describe("@default 3"),
    desiredCapacity: z.int().min(0).max(100).default(1).describe("@default 1"),
    cpuTargetPercent: z.int().min(10).max(95).default(60).describe("Target-tracking CPU utilisation. @default 60"),
  })
  .refine(
    (r) => {
      const { minSize: min, desiredCapacity: desired, maxSize: max } = (r ?? {}) as Partial<typeof r>;
      // Judged only once all three are numbers; each field reports its own type problem.
      if (typeof min !== "number" || typeof desired !== "number" || typeof max !== "number") return true;
      return min <= desired && desired <= max;
    },
    { message: "must satisfy minSize <= desiredCapacity <= maxSize", path: ["desiredCapacity"], when: () => true },
  )
  .superRefine((r, ctx) => jobsFitInstances(r, "concurrent", ctx))
  .transform((r) => ({ ...r, scaling: "cpu" as const, jobMemory: r.jobMemory ?? defaultJobMemory(r.instanceTypes, r.concurrent) }));

const idlePolicy = z
  .strictObject({
    periods: z
      .array(
        z.string().check((ctx) => {
          const parsed = parseCronPeriod(ctx.value);
          if (typeof parsed === "string") ctx.issues.push({ code: "custom", input: ctx.value, message: `invalid cron period: ${parsed}` });
        }),
      )
      .min(1)
      .default(["* * * * *"])
      .describe("When the policy applies: five-field cron expressions (minute hour day month weekday), e.g. '* 8-18 * * mon-fri'. @default ['* * * * *']"),
    timezone: z
      .string()
      .check((ctx) => {
        const problem = timeZoneProblem(ctx.value);
        if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
      })
      .default("UTC")
      .describe("Time zone of the periods: an IANA name such as 'Europe/Paris'. @default 'UTC'"),
    idleCount: z.int().min(0).max(6400).default(0).describe("Jobs' worth of idle capacity kept ready (idle_count, counted in jobs, not instances). @default 0"),
    idleTime: z
      .string()
      .check((ctx) => {
        const seconds = durationSeconds(ctx.value);
        if (seconds === undefined) ctx.issues.push({ code: "custom", input: ctx.value, message: "must be a duration like '20m', '1h' or '1h30m'" });
        else if (seconds < 1) ctx.issues.push({ code: "custom", input: ctx.value, message: "must be at least 1s" });
      })
      .default("20m")
      .describe("How long an unused worker is kept before it is removed (idle_time). @default '20m'"),
  })
  .describe("One [[runners.autoscaler.policy]]: the idle capacity kept while its periods match. The last policy whose periods match wins.");

const manager = z
  .strictObject({
    instanceType: instanceType
      .default("t3a.small")
      .describe("The runner manager's instance type (x86). It runs gitlab-runner and the plugin, no jobs. @default 't3a.small'"),
    purchaseOption: z
      .enum(["on-demand", "spot"])
      .default("on-demand")
      .describe(
        "on-demand, or spot (cheaper; an interruption stops the jobs it was running, which GitLab retries per the jobs' retry settings). @default 'on-demand'",
      ),
    rootVolumeGb: z.int().min(10).max(200).default(20).describe("The manager's volume (its logs, the plugin). @default 20"),
  })
  .describe("The runner manager: a one-instance Auto Scaling group, IMDSv2 only, no inbound traffic.");

const jobsRunners = z
  .strictObject({
    scaling: z.literal("jobs").describe("jobs: one runner manager (docker-autoscaler) scales a Spot worker group from the job queue, to zero."),
    ...shared,
    capacityPerInstance: z.int().min(1).max(64).default(1).describe("Jobs one worker runs at once (capacity_per_instance). @default 1"),
    maxInstances: z
      .int()
      .min(1)
      .max(100)
      .default(6)
      .describe("Most workers at once (max_instances); concurrent is maxInstances × capacityPerInstance. @default 6"),
    maxUseCount: z
      .int()
      .min(0)
      .max(10000)
      .default(20)
      .describe("Jobs a worker runs before it is replaced (max_use_count); 1 gives every job a fresh instance, 0 never replaces. @default 20"),
    idlePolicies: z
      .array(idlePolicy)
      .min(1)
      .default([{ periods: ["* * * * *"], timezone: "UTC", idleCount: 0, idleTime: "20m" }])
      .describe(
        "Idle capacity by schedule, e.g. one idle job's worth in office hours and none at night. The last policy whose periods match wins. @default no idle workers, unused ones removed after 20m",
      ),
    manager: manager.prefault({}),
    pluginVersion: z
      .string()
      .regex(/^\d+\.\d+$/, "must be a major.minor version like '1.1' (patch releases of it install automatically)")
      .default(DEFAULT_FLEETING_PLUGIN_VERSION)
      .describe(
        `Fleeting plugin for AWS, pinned to major.minor: plugin = 'aws:<this>', installed at boot by gitlab-runner fleeting install. @default '${DEFAULT_FLEETING_PLUGIN_VERSION}'`,
      ),
  })
  .superRefine((r, ctx) => jobsFitInstances(r, "capacityPerInstance", ctx))
  .superRefine(autoscalerChecks)
  .transform((r) => ({ ...r, jobMemory: r.jobMemory ?? defaultJobMemory(r.instanceTypes, r.capacityPerInstance) }));

export const awsRunnersSection = z
  .discriminatedUnion("scaling", [cpuRunners, jobsRunners], { error: "must be 'cpu' (the default) or 'jobs'" })
  .describe("GitLab Runner on Spot instances (docker executor, S3 cache): scaled on CPU (scaling: cpu, the default) or from the job queue (scaling: jobs).");

export type AwsRunnersConfig = z.infer<typeof awsRunnersSection>;
export type CpuRunnersConfig = Extract<AwsRunnersConfig, { scaling: "cpu" }>;
export type JobsRunnersConfig = Extract<AwsRunnersConfig, { scaling: "jobs" }>;

/** Keys that belong to one scaling mode only, for a clearer message than "unknown key". */
export const SCALING_ONLY_KEYS: Readonly<Record<string, "cpu" | "jobs">> = {
  concurrent: "cpu",
  minSize: "cpu",
  maxSize: "cpu",
  desiredCapacity: "cpu",
  cpuTargetPercent: "cpu",
  capacityPerInstance: "jobs",
  maxInstances: "jobs",
  maxUseCount: "jobs",
  idlePolicies: "jobs",
  manager: "jobs",
  pluginVersion: "jobs",
};

/** The other mode's field for the same thing, named in that message. */
export const SCALING_COUNTERPARTS: Readonly<Record<string, string>> = {
  concurrent: "capacityPerInstance",
  maxSize: "maxInstances",
  capacityPerInstance: "concurrent",
  maxInstances: "maxSize",
};

type Ctx = z.core.$RefinementCtx;

/** Every job at its limit at once must fit the smallest instance the group may launch. */
function jobsFitInstances(
  r: { instanceTypes: string[]; jobMemory?: string | undefined } & Record<string, unknown>,
  slotsField: "concurrent" | "capacityPerInstance",
  ctx: Ctx,
): void {
  const slots = r[slotsField] as number;
  const sized = r.instanceTypes.map((type, i) => ({ type, i, mib: instanceMemoryMiB(type) }));
  const unknown = sized.filter((s) => s.mib === undefined);
  for (const { type, i } of unknown) {
    ctx.addIssue({
      code: "custom",
      path: ["instanceTypes", i],
      message: `no memory size known for ${type} to fit the jobs in; runners use the x86 families ${RUNNER_FAMILIES.join(", ")} (config/schema/instance-memory.ts)`,
    });
  }
  if (unknown.length > 0) return;
  const smallest = sized.reduce((a, b) => (b.mib! < a.mib! ? b : a));
  const available = smallest.mib! - RUNNER_SYSTEM_RESERVE_MIB;
  const perJob = Math.floor(available / slots);
  const reserve = `${smallest.mib! / 1024} GiB less ${RUNNER_SYSTEM_RESERVE_MIB / 1024} GiB for the system, Docker and the runner`;
  if (r.jobMemory === undefined) {
    if (perJob < MIN_JOB_MEMORY_MIB) {
      ctx.addIssue({
        code: "custom",
        path: [slotsField],
        message: `${slots} jobs on a ${smallest.type} leave ${perJob} MiB each (${reserve}); a job needs at least ${MIN_JOB_MEMORY_MIB} MiB: lower ${slotsField} or choose larger instanceTypes`,
      });
    }
    return;
  }
  const asked = memoryMiB(r.jobMemory) * slots;
  if (asked > available) {
    ctx.addIssue({
      code: "custom",
      path: ["jobMemory"],
      message: `${r.jobMemory} × ${slotsField} ${slots} = ${asked} MiB, more than the ${available} MiB a ${smallest.type} leaves for jobs (${reserve}): set jobMemory to at most ${perJob}m, lower ${slotsField}, or choose larger instanceTypes`,
    });
  }
}

interface AutoscalerFields {
  readonly version: string;
  readonly capacityPerInstance: number;
  readonly maxInstances: number;
  readonly idlePolicies: readonly { readonly periods: readonly string[]; readonly idleCount: number }[];
  readonly manager: { readonly instanceType: string };
}

/** What the docker-autoscaler needs beyond the fields' own types. */
function autoscalerChecks(r: AutoscalerFields, ctx: Ctx): void {
  const [major = 0, minor = 0] = r.version.split(".").map(Number);
  const [needMajor, needMinor] = MIN_AUTOSCALER_RUNNER;
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    ctx.addIssue({
      code: "custom",
      path: ["version"],
      message: `scaling: jobs needs gitlab-runner ${needMajor}.${needMinor} or newer (docker-autoscaler is generally available from ${needMajor}.${needMinor}; it installs its plugin from GitLab's registry since 16.11), got ${r.version}`,
    });
  }
  const capacity = r.maxInstances * r.capacityPerInstance;
  r.idlePolicies.forEach((p, i) => {
    if (p.idleCount > capacity) {
      ctx.addIssue({
        code: "custom",
        path: ["idlePolicies", i, "idleCount"],
        message: `${p.idleCount} idle jobs cannot be kept: the workers hold at most maxInstances × capacityPerInstance = ${capacity} jobs`,
      });
    }
    const always = p.periods.some((period) => {
      const parsed = parseCronPeriod(period);
      return typeof parsed !== "string" && matchesAlways(parsed);
    });
    if (always && i > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["idlePolicies", i, "periods"],
        message: "matches every minute, so the policies before it never apply (the last matching policy wins): put the always-matching policy first",
      });
    }
  });
  const managerMiB = instanceMemoryMiB(r.manager.instanceType);
  if (managerMiB === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["manager", "instanceType"],
      message: `no memory size known for ${r.manager.instanceType}; the runner manager uses the x86 families ${RUNNER_FAMILIES.join(", ")} (config/schema/instance-memory.ts)`,
    });
  } else if (managerMiB < MIN_MANAGER_MEMORY_MIB) {
    ctx.addIssue({
      code: "custom",
      path: ["manager", "instanceType"],
      message: `${r.manager.instanceType} has ${managerMiB} MiB; the runner manager needs at least ${MIN_MANAGER_MEMORY_MIB} MiB (gitlab-runner, the plugin, the CloudWatch and SSM agents): choose e.g. t3a.small`,
    });
  }
}

/** What the smallest of the types leaves per job, as a Docker memory size ('3584m'). */
function defaultJobMemory(instanceTypes: readonly string[], jobsAtOnce: number): string {
  const smallest = Math.min(...instanceTypes.map((t) => instanceMemoryMiB(t)!));
  return `${Math.floor((smallest - RUNNER_SYSTEM_RESERVE_MIB) / jobsAtOnce)}m`;
}
