// How many runner instances run on average, by the kind of group. The synthesized stack says
// what the group is; how busy it is comes from the rate table's usage assumptions:
//   fleet: a group that scales on CPU (runners.scaling: cpu) keeps min_size instances and
//          runs up to max_size a share of the month;
//   jobs:  a worker group the runner manager's fleeting plugin scales (runners.scaling: jobs)
//          has instances while jobs run, plus the idle capacity its policies keep, plus the
//          idle time before an unused one goes. That is simulated minute by minute over a
//          year of working days, in the policies' local time.
import { durationSeconds, parseCronPeriod, periodMatches, type CronPeriod, type LocalTime } from "../config/schema/autoscaler-schedule";
import type { RunnersUsage } from "./rates";

export interface GroupBounds {
  readonly minSize: number;
  readonly maxSize: number;
}

/** A worker group's settings, as the manager's config.toml gives them to the plugin. */
export interface AutoscaledGroup {
  readonly capacityPerInstance: number;
  readonly maxInstances: number;
  /** 0: an instance is never replaced for its use count. */
  readonly maxUseCount: number;
  readonly policies: readonly { readonly periods: readonly string[]; readonly idleCount: number; readonly idleTime: string }[];
}

export type RunnerGroup = ({ readonly kind: "fleet" } & GroupBounds) | ({ readonly kind: "jobs" } & AutoscaledGroup);

export interface Capacity {
  /** Instances always running. */
  readonly baseInstances: number;
  /** Average instances above the base, over the month. */
  readonly extraInstances: number;
  /** Of those, the average busy with jobs (jobs: what unlimited-mode CPU credits are spent on). */
  readonly busyInstances?: number;
  /** How the numbers were arrived at, for the report. */
  readonly explanation: string;
}

export function runnerCapacity(group: RunnerGroup, usage: RunnersUsage): Capacity {
  switch (group.kind) {
    case "fleet": {
      const extra = Math.max(0, group.maxSize - group.minSize);
      return {
        baseInstances: group.minSize,
        extraInstances: extra * usage.fleet.extraCapacityShare,
        explanation: `${group.minSize} always on, ${extra} more ${Math.round(usage.fleet.extraCapacityShare * 100)} % of the time`,
      };
    }
    case "jobs":
      return jobsCapacity(group, usage.jobs);
  }
}

type JobsUsage = RunnersUsage["jobs"];

const MINUTES_A_YEAR = 365 * 24 * 60;
/** 2026 starts on a Thursday (weekday 4, Sunday = 0); the year has no 29 February. */
const FIRST_WEEKDAY = 4;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The calendar of the simulated year: local time of each day. */
function dayOf(dayOfYear: number): { day: number; month: number; weekday: number } {
  let day = dayOfYear;
  let month = 0;
  while (day >= MONTH_DAYS[month]!) day -= MONTH_DAYS[month++]!;
  return { day: day + 1, month: month + 1, weekday: (FIRST_WEEKDAY + dayOfYear) % 7 };
}

interface Policy {
  readonly periods: readonly CronPeriod[];
  readonly idleCount: number;
  readonly idleMinutes: number;
}

function policiesOf(group: AutoscaledGroup): Policy[] {
  return group.policies.map((p) => ({
    periods: p.periods.map(parseCronPeriod).filter((c): c is CronPeriod => typeof c !== "string"),
    idleCount: p.idleCount,
    idleMinutes: Math.ceil((durationSeconds(p.idleTime) ?? 0) / 60),
  }));
}

/** The last policy whose periods match wins (taskscaler's rule); none: no idle capacity, no idle time. */
function policyAt(policies: readonly Policy[], t: LocalTime): Policy | undefined {
  for (let i = policies.length - 1; i >= 0; i--) if (policies[i]!.periods.some((p) => periodMatches(p, t))) return policies[i];
  return undefined;
}

function isWorking(u: JobsUsage, t: LocalTime): boolean {
  // Working days run from Monday: 5 is Monday to Friday.
  const workday = t.weekday >= 1 ? t.weekday <= u.workDaysPerWeek : u.workDaysPerWeek >= 7;
  return workday && t.hour >= u.workStartHour && t.hour < u.workStartHour + u.workHoursPerDay;
}

interface Year {
  /** Instance-minutes, boots not counted. */
  readonly instanceMinutes: number;
  /** Instance-minutes busy with jobs. */
  readonly busyMinutes: number;
  /** Minutes of work: jobs arrive then. */
  readonly workingMinutes: number;
  /** Instances started because the schedule or the jobs needed one more. */
  readonly launches: number;
}

/** Keeps each instance its policy's idle time after it was last needed; counts launches. */
class Pool {
  private readonly keptUntil: number[];
  private running = 0;
  launches = 0;

  constructor(maxInstances: number) {
    this.keptUntil = new Array<number>(maxInstances).fill(-1);
  }

  /** The instances running at minute m when `needed` are needed and unused ones stay `idleMinutes`. */
  at(m: number, needed: number, idleMinutes: number): number {
    for (let k = 0; k < needed; k++) this.keptUntil[k] = Math.max(this.keptUntil[k]!, m + idleMinutes);
    let now = 0;
    for (let k = 0; k < this.keptUntil.length; k++) if (k < needed || this.keptUntil[k]! > m) now++;
    if (now > this.running) this.launches += now - this.running;
    this.running = now;
    return now;
  }
}

/**
 * Each minute of one kind of day: the policy in force and whether people work. A day's minutes
 * depend on its date only through which periods' day, weekday and month fields match it (and
 * its weekday, for work), so a year has only a few kinds of day: each is worked out once.
 */
function minutesOfDay(policies: readonly Policy[], u: JobsUsage, date: ReturnType<typeof dayOf>, cache: Map<string, DayMinute[]>): DayMinute[] {
  const key = `${date.weekday}|${policies.map((p) => p.periods.map((c) => `${c.days.has(date.day)}${c.months.has(date.month)}`).join(",")).join(";")}`;
  let minutes = cache.get(key);
  if (!minutes) {
    minutes = [];
    for (let minuteOfDay = 0; minuteOfDay < 1440; minuteOfDay++) {
      const t: LocalTime = { ...date, hour: Math.floor(minuteOfDay / 60), minute: minuteOfDay % 60 };
      minutes.push({ policy: policyAt(policies, t), working: isWorking(u, t) });
    }
    cache.set(key, minutes);
  }
  return minutes;
}

interface DayMinute {
  readonly policy: Policy | undefined;
  readonly working: boolean;
}

function simulateYear(group: AutoscaledGroup, u: JobsUsage): Year {
  const policies = policiesOf(group);
  const busySlots = (u.jobsPerHour * u.jobMinutes) / 60;
  const busyInstances = Math.min(group.maxInstances, Math.ceil(busySlots / group.capacityPerInstance));
  const pool = new Pool(group.maxInstances);
  const kindsOfDay = new Map<string, DayMinute[]>();
  let instanceMinutes = 0;
  let busyMinutes = 0;
  let workingMinutes = 0;
  for (let d = 0; d < 365; d++) {
    const minutes = minutesOfDay(policies, u, dayOf(d), kindsOfDay);
    for (let minuteOfDay = 0; minuteOfDay < 1440; minuteOfDay++) {
      const { policy, working } = minutes[minuteOfDay]!;
      const needed = Math.min(group.maxInstances, Math.ceil(((working ? busySlots : 0) + (policy?.idleCount ?? 0)) / group.capacityPerInstance));
      instanceMinutes += pool.at(d * 1440 + minuteOfDay, needed, policy?.idleMinutes ?? 0);
      if (working) {
        workingMinutes++;
        busyMinutes += busyInstances;
      }
    }
  }
  return { instanceMinutes, busyMinutes, workingMinutes, launches: pool.launches };
}

function jobsCapacity(group: AutoscaledGroup, u: JobsUsage): Capacity {
  const year = simulateYear(group, u);
  const jobsAYear = (u.jobsPerHour * year.workingMinutes) / 60;
  // Besides the launches the schedule and the jobs make: a replacement after every
  // max_use_count jobs an instance ran.
  const replacements = group.maxUseCount > 0 ? Math.floor(jobsAYear / group.maxUseCount) : 0;
  const launches = year.launches + replacements;
  const bootMinutes = launches * u.instanceBootMinutes;
  const days = u.workDaysPerWeek === 5 ? "Monday to Friday" : `${u.workDaysPerWeek} days a week from Monday`;
  return {
    baseInstances: 0,
    extraInstances: (year.instanceMinutes + bootMinutes) / MINUTES_A_YEAR,
    busyInstances: year.busyMinutes / MINUTES_A_YEAR,
    explanation:
      `${u.jobsPerHour} jobs an hour of ${u.jobMinutes} min, ${pad(u.workStartHour)}:00–${pad(u.workStartHour + u.workHoursPerDay)}:00 ${days}, ` +
      `${group.capacityPerInstance} per instance, the idle policies, ${Math.round(launches / 12)} launches a month of ${u.instanceBootMinutes} min`,
  };
}

const pad = (h: number) => String(h).padStart(2, "0");
