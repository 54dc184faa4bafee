// Memory of the EC2 instance types the runners may use, to fit their jobs' memory limits in.
// The AWS SDK lists instance types but not their sizes, so this is a small table of the x86
// families a runner fleet is built from (the runners' AMI is x86_64): the burstable ones by
// size, the others by their fixed GiB per vCPU (a size's vCPUs: medium 1, large 2, xlarge 4,
// Nxlarge 4N). Only types that also exist (ec2-instance-types.ts) are accepted.

/** Burstable families: GiB by size. */
const BURSTABLE: Readonly<Record<string, Readonly<Record<string, number>>>> = Object.fromEntries(
  ["t2", "t3", "t3a"].map((family) => [family, { nano: 0.5, micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 }]),
);

/** Fixed-ratio families: GiB per vCPU. */
const GIB_PER_VCPU: Readonly<Record<string, number>> = {
  ...Object.fromEntries(["m5", "m5a", "m5d", "m5ad", "m6i", "m6id", "m6a", "m7i", "m7i-flex", "m7a"].map((f) => [f, 4])),
  ...Object.fromEntries(["c5", "c5a", "c5d", "c6i", "c6id", "c6a", "c7i", "c7i-flex", "c7a"].map((f) => [f, 2])),
  ...Object.fromEntries(["r5", "r5a", "r5d", "r6i", "r6id", "r6a", "r7i", "r7a"].map((f) => [f, 8])),
};

/** The families runners may use, for messages. */
export const RUNNER_FAMILIES: readonly string[] = [...Object.keys(BURSTABLE), ...Object.keys(GIB_PER_VCPU)];

function vcpus(size: string): number | undefined {
  if (size === "medium") return 1;
  if (size === "large") return 2;
  const m = /^(\d*)xlarge$/.exec(size);
  return m ? 4 * Number(m[1] || 1) : undefined;
}

/** The type's memory in MiB, or undefined when this table does not know it. */
export function instanceMemoryMiB(instanceType: string): number | undefined {
  const [family = "", size = ""] = instanceType.split(".");
  const burstable = BURSTABLE[family]?.[size];
  if (burstable !== undefined) return burstable * 1024;
  const ratio = GIB_PER_VCPU[family];
  const cpus = vcpus(size);
  return ratio !== undefined && cpus !== undefined ? ratio * cpus * 1024 : undefined;
}

/** Kept for the system, Docker, gitlab-runner and the CloudWatch and SSM agents. */
export const RUNNER_SYSTEM_RESERVE_MIB = 1024;
/** Less than this per job is refused: even a shell job's container needs some. */
export const MIN_JOB_MEMORY_MIB = 512;

/** A Docker memory size ('6g', '512m', '1048576k') in MiB. */
export function memoryMiB(size: string): number {
  const n = Number(size.slice(0, -1));
  return { k: n / 1024, m: n, g: n * 1024 }[size.at(-1) as "k" | "m" | "g"];
}
