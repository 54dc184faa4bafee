// The cost of an aws environment's runners in both scaling modes (runners.scaling) at equal
// peak capacity: the report of each synthesized stack, its runner lines (the runner fleet's
// resources and their alarms) and the ratio. Pure; the cost command synthesizes both stacks.
import { round, type CostLine } from "./aws";
import type { CostReport } from "./estimate";
import type { RateTable } from "./rates";

type AwsReport = Extract<CostReport, { platform: "aws" }>;

export interface ModeCost {
  readonly mode: "cpu" | "jobs";
  /** The environment's own mode, or the other one derived from it. */
  readonly configured: boolean;
  /** What the runners are, in a few words. */
  readonly shape: string;
  readonly runnerLines: readonly CostLine[];
  readonly runners: number;
  readonly total: number;
}

export interface ModesComparison {
  readonly environment: string;
  readonly currency: string;
  readonly peakJobs: number;
  readonly modes: readonly [ModeCost, ModeCost];
  /** jobs ÷ cpu. */
  readonly runnerRatio: number;
  readonly totalRatio: number;
  /** The usage assumptions both estimates rest on, one line each. */
  readonly assumptions: readonly string[];
}

/** The runner fleet's resources and the alarms that watch it. */
export const isRunnerLine = (l: CostLine): boolean => l.resource.startsWith("runner-fleet/") || /^observability\/runners?-/.test(l.resource);

export function modeCost(mode: "cpu" | "jobs", configured: boolean, shape: string, report: AwsReport): ModeCost {
  const runnerLines = report.lines.filter(isRunnerLine);
  return { mode, configured, shape, runnerLines, runners: round(runnerLines.reduce((s, l) => s + (l.monthly ?? 0), 0)), total: report.total };
}

export function compareModes(environment: string, peakJobs: number, a: ModeCost, b: ModeCost, rates: RateTable): ModesComparison {
  const [cpu, jobs] = a.mode === "cpu" ? [a, b] : [b, a];
  const f = rates.usage.runners.fleet;
  const j = rates.usage.runners.jobs;
  return {
    environment,
    currency: rates.currency,
    peakJobs,
    modes: [cpu, jobs],
    runnerRatio: round(jobs.runners / cpu.runners),
    totalRatio: round(jobs.total / cpu.total),
    assumptions: [
      `cpu (usage.runners.fleet): the instances above min_size run ${Math.round(f.extraCapacityShare * 100)} % of the month; ${f.burstSurplusVcpuHoursPerInstance} vCPU-hours above a burstable type's baseline per instance-month`,
      `jobs (usage.runners.jobs): ${j.jobsPerHour} jobs an hour of ${j.jobMinutes} min while people work, ${String(j.workStartHour).padStart(2, "0")}:00 for ${j.workHoursPerDay} h, ${j.workDaysPerWeek} days a week, none otherwise; ${j.instanceBootMinutes} min billed per worker launch; ${j.burstSurplusVcpuPerBusyInstanceHour} vCPU-hours above the baseline per busy worker-hour`,
    ],
  };
}
