// The runners priced in both scaling modes (runners.scaling cpu and jobs) at equal peak
// capacity, and the jobs model behind the jobs mode: workers only while jobs run and the idle
// policies ask, simulated over a year.
import { describe, expect, it } from "vitest";
import { estimateBothModes } from "../../cli/cost";
import { formatModesText } from "../../cost/format";
import { loadRates } from "../../cost/rates";
import { runnerCapacity, type AutoscaledGroup } from "../../cost/runner-capacity";
import type { AwsEnvironment } from "../../stacks/aws-stack";
import { exampleEnvironment } from "../helpers";

const rates = loadRates();
const jobsUsage = rates.usage.runners.jobs;
const group = (over: Partial<AutoscaledGroup> = {}): AutoscaledGroup => ({
  capacityPerInstance: 2,
  maxInstances: 3,
  maxUseCount: 0,
  policies: [{ periods: ["* * * * *"], idleCount: 0, idleTime: "20m" }],
  ...over,
});
const jobs = (g: AutoscaledGroup, usage = jobsUsage) => runnerCapacity({ kind: "jobs", ...g }, { ...rates.usage.runners, jobs: usage });

describe("cost of the runners in both scaling modes", () => {
  const staging = exampleEnvironment("staging") as AwsEnvironment;
  const comparison = estimateBothModes(staging, rates);
  const [cpu, jobsMode] = comparison.modes;

  it("prices staging's cpu fleet as configured and the jobs mode at the same peak (3 instances × 2 jobs)", () => {
    expect(comparison.peakJobs).toBe(6);
    expect(cpu).toMatchObject({ mode: "cpu", configured: true });
    expect(jobsMode).toMatchObject({ mode: "jobs", configured: false });
    expect(jobsMode.shape).toMatch(/^3 × 2 jobs on t3a\.large/);
    // Each mode's own resources: the cpu fleet's one group; the manager and the workers.
    expect(new Set(cpu.runnerLines.map((l) => l.resource))).toContain("runner-fleet/asg");
    expect(new Set(jobsMode.runnerLines.map((l) => l.resource))).toEqual(
      new Set([
        "runner-fleet/manager/asg",
        "runner-fleet/workers/asg",
        "runner-fleet/cache/bucket",
        "observability/runner-bootstrap-failed",
        "observability/runner-manager-disk",
        "observability/runner-manager-missing",
        "observability/runners-at-max",
      ]),
    );
  });

  it("costs at most 0.75 × the cpu mode for a team working office hours (the issue's target)", () => {
    expect(comparison.runnerRatio).toBeLessThanOrEqual(0.75);
    expect(comparison.runnerRatio).toBeCloseTo(jobsMode.runners / cpu.runners, 2);
    expect(jobsMode.total).toBeLessThan(cpu.total);
  });

  it("states its usage assumptions: hours of work a day, days a week, jobs an hour and their length", () => {
    const text = formatModesText(comparison);
    expect(text).toContain("12 jobs an hour of 8 min while people work, 08:00 for 10 h, 5 days a week");
    expect(text).toContain("the instances above min_size run 30 % of the month");
    expect(text).toMatch(/jobs \/ cpu: 0\.\d\d for the runners/);
  });

  it("compares the other way round for an environment in jobs mode (production)", () => {
    const production = estimateBothModes(exampleEnvironment("production") as AwsEnvironment, rates);
    expect(production.modes.map((m) => [m.mode, m.configured])).toEqual([
      ["cpu", false],
      ["jobs", true],
    ]);
    expect(production.peakJobs).toBe(6);
  });
});

describe("the jobs model (a worker group the fleeting plugin scales)", () => {
  it("costs nothing when no job runs and no policy keeps idle workers: scale to zero", () => {
    const c = jobs(group(), { ...jobsUsage, jobsPerHour: 0 });
    expect(c.baseInstances).toBe(0);
    expect(c.extraInstances).toBe(0);
  });

  it("keeps one worker all the time for an always-matching idle policy of one job", () => {
    const c = jobs(group({ policies: [{ periods: ["* * * * *"], idleCount: 1, idleTime: "20m" }] }), { ...jobsUsage, jobsPerHour: 0 });
    expect(c.extraInstances).toBeCloseTo(1, 2);
  });

  it("keeps an idle worker in office hours only, by the policy's own schedule", () => {
    const officeHours = group({
      policies: [
        { periods: ["* * * * *"], idleCount: 0, idleTime: "20m" },
        { periods: ["* 8-17 * * mon-fri"], idleCount: 1, idleTime: "20m" },
      ],
    });
    const c = jobs(officeHours, { ...jobsUsage, jobsPerHour: 0 });
    // 10 h × 5 days of 168 h, plus the idle time after each day (20 min) and a boot per day.
    expect(c.extraInstances).toBeGreaterThan(50 / 168);
    expect(c.extraInstances).toBeLessThan(52 / 168);
  });

  it("grows with the work: more jobs an hour need more worker hours, up to max_instances", () => {
    const light = jobs(group()).extraInstances;
    const heavy = jobs(group(), { ...jobsUsage, jobsPerHour: 30 }).extraInstances;
    const saturated = jobs(group(), { ...jobsUsage, jobsPerHour: 1000, workHoursPerDay: 24, workStartHour: 0, workDaysPerWeek: 7 }).extraInstances;
    expect(heavy).toBeGreaterThan(light);
    expect(saturated).toBeLessThanOrEqual(3.01);
  });

  it("bills a boot for every replacement after max_use_count jobs", () => {
    const never = jobs(group({ maxUseCount: 0 })).extraInstances;
    const everyJob = jobs(group({ maxUseCount: 1 })).extraInstances;
    expect(everyJob).toBeGreaterThan(never);
  });
});
