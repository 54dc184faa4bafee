// The rate table (cost/rates.yaml) and a user's override of it, merged key by key.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";

const price = z.number().nonnegative();
const share = z.number().min(0).max(1);

/** How busy the runners are: one block per kind of group (cost/runner-capacity.ts). */
const runnersUsage = z.strictObject({
  fleet: z.strictObject({
    extraCapacityShare: share,
    burstSurplusVcpuHoursPerInstance: z.number().nonnegative(),
  }),
  jobs: z
    .strictObject({
      workDaysPerWeek: z.int().min(1).max(7),
      workStartHour: z.int().min(0).max(23),
      workHoursPerDay: z.int().min(1).max(24),
      jobsPerHour: z.number().nonnegative(),
      jobMinutes: z.number().positive(),
      instanceBootMinutes: z.number().nonnegative(),
      burstSurplusVcpuPerBusyInstanceHour: z.number().nonnegative(),
    })
    .refine((j) => j.workStartHour + j.workHoursPerDay <= 24, {
      message: "workStartHour + workHoursPerDay must end within the day (at most 24)",
      path: ["workHoursPerDay"],
    }),
});

export const rateTableSchema = z.strictObject({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date like 2026-11-23"),
  region: z.string().min(1),
  currency: z.string().min(1),
  source: z.string().min(1),
  hoursPerMonth: z.number().positive(),
  ec2: z.strictObject({
    onDemandHourly: z.record(z.string(), price),
    spotDiscount: share,
    burstSurplusPerVcpuHour: price,
  }),
  ebs: z.strictObject({ gbMonth: z.record(z.string(), price), snapshotGbMonth: price }),
  s3: z.strictObject({ standardGbMonth: price }),
  cloudwatch: z.strictObject({
    alarmMonth: price,
    highResolutionAlarmMonth: price,
    customMetricMonth: price,
    logsIngestedGb: price,
    logsStoredGbMonth: price,
  }),
  vpc: z.strictObject({ publicIpv4Hourly: price, natGatewayHourly: price, natGatewayProcessedGb: price }),
  secretsManager: z.strictObject({ secretMonth: price }),
  usage: z.strictObject({
    runners: runnersUsage,
    snapshots: z.strictObject({ volumeUsedShare: share, dailyChangeShare: share }),
    s3GbPerBucket: z.number().nonnegative(),
    logsGbPerMonth: z.number().nonnegative(),
    natGbPerMonth: z.number().nonnegative(),
  }),
});

export type RateTable = z.infer<typeof rateTableSchema>;
export type RunnersUsage = z.infer<typeof runnersUsage>;

export const DEFAULT_RATES_FILE = join(__dirname, "rates.yaml");

/** `override` merged into `base`: mappings key by key, anything else replaced. */
export function mergeRates(base: unknown, override: unknown): unknown {
  if (!isMapping(base) || !isMapping(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) merged[k] = mergeRates(base[k], v);
  return merged;
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Thrown for a rate file that cannot be used; names the file and the field. */
export class RatesError extends Error {}

function readYaml(file: string): unknown {
  try {
    return parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new RatesError(`${file}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** The built-in table, with `overrideFile` (a user's YAML) merged over it when given. */
export function loadRates(overrideFile?: string): RateTable {
  const base = readYaml(DEFAULT_RATES_FILE);
  const merged = overrideFile ? mergeRates(base, readYaml(overrideFile)) : base;
  const parsed = rateTableSchema.safeParse(merged);
  if (!parsed.success) {
    const where = overrideFile ?? DEFAULT_RATES_FILE;
    throw new RatesError(parsed.error.issues.map((i) => `${where}: ${i.path.join(".") || "(file)"}: ${i.message}`).join("\n"));
  }
  return parsed.data;
}
