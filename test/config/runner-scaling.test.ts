// runners.scaling on aws: cpu (as the reference AWS installation runs them; the default) or jobs (docker-autoscaler). The same
// YAML for what both share; each mode's own settings validated with a message that names the
// file and the field; the other mode's keys named as such.
import { describe, expect, it } from "vitest";
import { matchesAlways, parseCronPeriod, periodMatches, timeZoneProblem, durationSeconds } from "../../config/schema/autoscaler-schedule";
import { peakJobs, runnersInMode } from "../../config/runner-scaling";
import { deepClone, exampleYaml, problemsOf, validEnvironment } from "../helpers";

/** staging's runners in jobs mode: its cpu-only keys removed, the mode's own added. */
function jobs(extra: Record<string, unknown> = {}) {
  const c = deepClone(exampleYaml("staging"));
  const { concurrent: _c, minSize: _min, maxSize: _max, desiredCapacity: _d, ...shared } = c.runners;
  c.runners = { ...shared, scaling: "jobs", ...extra };
  return c;
}
const runnersOf = (config: unknown) => {
  const env = validEnvironment(config);
  if (env.platform !== "aws") throw new Error("expected aws");
  return env.runners;
};

describe("runners.scaling", () => {
  it("is cpu when not set: staging's runners are the reference AWS installation's fleet, as before", () => {
    const r = runnersOf(exampleYaml("staging"));
    expect(r).toMatchObject({ scaling: "cpu", concurrent: 2, minSize: 1, maxSize: 3, desiredCapacity: 1, cpuTargetPercent: 60, jobMemory: "3584m" });
  });

  it("jobs takes the same shared settings and defaults its own: one job per worker, six workers, twenty uses, no idle worker, a t3a.small on-demand manager, plugin aws:1.1", () => {
    const r = runnersOf(jobs());
    expect(r).toMatchObject({
      scaling: "jobs",
      instanceTypes: ["t3a.large", "t3.large"],
      rootVolumeGb: 100,
      cacheExpirationDays: 14,
      privileged: true,
      capacityPerInstance: 1,
      maxInstances: 6,
      maxUseCount: 20,
      idlePolicies: [{ periods: ["* * * * *"], timezone: "UTC", idleCount: 0, idleTime: "20m" }],
      manager: { instanceType: "t3a.small", purchaseOption: "on-demand", rootVolumeGb: 20 },
      pluginVersion: "1.1",
      // One job per t3a.large: all it leaves after the system's 1 GiB.
      jobMemory: "7168m",
    });
  });

  it("the production example runs jobs mode with office hours in Paris", () => {
    const r = runnersOf(exampleYaml("production"));
    expect(r.scaling).toBe("jobs");
    if (r.scaling !== "jobs") return;
    expect(r).toMatchObject({ capacityPerInstance: 2, maxInstances: 3, jobMemory: "3584m" });
    expect(r.idlePolicies.at(-1)).toMatchObject({ periods: ["* 8-18 * * mon-fri"], timezone: "Europe/Paris", idleCount: 1 });
  });
});

describe("runners.scaling: the messages", () => {
  const cases: { what: string; config: () => unknown; expected: RegExp[] }[] = [
    {
      what: "an unknown mode",
      config: () => jobs({ scaling: "queue" }),
      expected: [/^config\/test\.yaml: runners\.scaling: must be 'cpu' \(the default\) or 'jobs'$/],
    },
    {
      what: "cpu's settings in jobs mode, each named with its counterpart",
      config: () => ({ ...jobs(), runners: { ...jobs().runners, concurrent: 2, minSize: 1 } }),
      expected: [
        /^config\/test\.yaml: runners\.concurrent: only valid with runners\.scaling: cpu \(this environment's is 'jobs'; its counterpart there is capacityPerInstance\)$/,
        /^config\/test\.yaml: runners\.minSize: only valid with runners\.scaling: cpu \(this environment's is 'jobs'\)$/,
      ],
    },
    {
      what: "jobs' settings in cpu mode",
      config: () => ({ ...exampleYaml("staging"), runners: { ...exampleYaml("staging").runners, maxInstances: 3, idlePolicies: [] } }),
      expected: [
        /^config\/test\.yaml: runners\.maxInstances: only valid with runners\.scaling: jobs \(this environment's is 'cpu'; its counterpart there is maxSize\)$/,
        /^config\/test\.yaml: runners\.idlePolicies: only valid with runners\.scaling: jobs \(this environment's is 'cpu'\)$/,
      ],
    },
    {
      what: "a misspelt jobs setting",
      config: () => jobs({ maxInstance: 4 }),
      expected: [/^config\/test\.yaml: runners\.maxInstance: unknown key; did you mean 'maxInstances'\?$/],
    },
    {
      what: "an idle policy's bad period, time zone and idle time",
      config: () => jobs({ idlePolicies: [{ periods: ["* 8-25 * * mon-fri"], timezone: "Paris", idleTime: "20" }] }),
      expected: [
        /^config\/test\.yaml: runners\.idlePolicies\[0\]\.periods\[0\]: invalid cron period: hour '25' is out of range 0-23$/,
        /^config\/test\.yaml: runners\.idlePolicies\[0\]\.timezone: 'Paris' is not an IANA time zone name like 'Europe\/Paris'/,
        /^config\/test\.yaml: runners\.idlePolicies\[0\]\.idleTime: must be a duration like '20m', '1h' or '1h30m'$/,
      ],
    },
    {
      what: "an always-matching policy after a scheduled one (the scheduled one would never apply)",
      config: () => jobs({ idlePolicies: [{ periods: ["* 8-18 * * mon-fri"], idleCount: 1 }, { periods: ["* * * * *"] }] }),
      expected: [
        /^config\/test\.yaml: runners\.idlePolicies\[1\]\.periods: matches every minute, so the policies before it never apply \(the last matching policy wins\): put the always-matching policy first$/,
      ],
    },
    {
      what: "more idle jobs than the workers hold",
      config: () => jobs({ capacityPerInstance: 2, maxInstances: 2, idlePolicies: [{ idleCount: 5 }] }),
      expected: [
        /^config\/test\.yaml: runners\.idlePolicies\[0\]\.idleCount: 5 idle jobs cannot be kept: the workers hold at most maxInstances × capacityPerInstance = 4 jobs$/,
      ],
    },
    {
      what: "more jobs per worker than its memory holds",
      config: () => jobs({ capacityPerInstance: 16 }),
      expected: [
        /^config\/test\.yaml: runners\.capacityPerInstance: 16 jobs on a t3a\.large leave 448 MiB each .*: lower capacityPerInstance or choose larger instanceTypes$/,
      ],
    },
    {
      what: "a job memory that does not fit capacityPerInstance times",
      config: () => jobs({ capacityPerInstance: 2, jobMemory: "6g" }),
      expected: [
        /^config\/test\.yaml: runners\.jobMemory: 6g × capacityPerInstance 2 = 12288 MiB, more than the 7168 MiB a t3a\.large leaves for jobs .*: set jobMemory to at most 3584m, lower capacityPerInstance, or choose larger instanceTypes$/,
      ],
    },
    {
      what: "a manager too small, and a purchase option AWS does not sell",
      config: () => jobs({ manager: { instanceType: "t3a.nano", purchaseOption: "reserved" } }),
      expected: [/^config\/test\.yaml: runners\.manager\.purchaseOption: must be one of 'on-demand', 'spot'$/],
    },
    {
      what: "a manager with half a GiB",
      config: () => jobs({ manager: { instanceType: "t3a.nano" } }),
      expected: [
        /^config\/test\.yaml: runners\.manager\.instanceType: t3a\.nano has 512 MiB; the runner manager needs at least 1024 MiB .*: choose e\.g\. t3a\.small$/,
      ],
    },
    {
      what: "an Arm manager (the runner binary and the image are x86_64)",
      config: () => jobs({ manager: { instanceType: "t4g.small" } }),
      expected: [
        /^config\/test\.yaml: runners\.manager\.instanceType: no memory size known for t4g\.small; the runner manager uses the x86 families t2, t3, t3a, /,
      ],
    },
    {
      what: "an unpinned plugin",
      config: () => jobs({ pluginVersion: "latest" }),
      expected: [/^config\/test\.yaml: runners\.pluginVersion: must be a major\.minor version like '1\.1' \(patch releases of it install automatically\)$/],
    },
    {
      what: "a runner too old for docker-autoscaler",
      config: () => jobs({ version: "16.9.0" }),
      expected: [/^config\/test\.yaml: runners\.version: scaling: jobs needs gitlab-runner 17\.1 or newer .*got 16\.9\.0$/],
    },
  ];

  it.each(cases.map((c) => [c.what, c] as const))("%s", (_what, c) => {
    const problems = problemsOf(c.config());
    expect(problems.length, problems.join("\n")).toBe(c.expected.length);
    for (const [i, re] of c.expected.entries()) expect(problems[i], problems.join("\n")).toMatch(re);
  });
});

describe("idle policy periods, time zones and idle times", () => {
  const at = (weekday: number, hour: number, minute = 0) => ({ weekday, hour, minute, day: 15, month: 6 });

  it("reads numbers, ranges, lists, steps and names like the runner", () => {
    const office = parseCronPeriod("* 8-18 * * mon-fri");
    if (typeof office === "string") throw new Error(office);
    expect(periodMatches(office, at(1, 8))).toBe(true);
    expect(periodMatches(office, at(5, 18, 59))).toBe(true);
    expect(periodMatches(office, at(5, 19))).toBe(false);
    expect(periodMatches(office, at(6, 10))).toBe(false);
    expect(periodMatches(office, at(0, 10))).toBe(false);
    const steps = parseCronPeriod("*/15 0,12 * jan-mar,dec sun");
    if (typeof steps === "string") throw new Error(steps);
    expect([...steps.minutes]).toEqual([0, 15, 30, 45]);
    expect([...steps.hours]).toEqual([0, 12]);
    expect([...steps.months]).toEqual([1, 2, 3, 12]);
    expect(matchesAlways(parseCronPeriod("* * * * *") as never)).toBe(true);
    expect(matchesAlways(office)).toBe(false);
  });

  it("refuses what parsers read differently or not at all", () => {
    expect(parseCronPeriod("* * * * 7")).toBe("weekday '7' is out of range 0-6");
    expect(parseCronPeriod("@daily")).toMatch(/five fields/);
    expect(parseCronPeriod("* * ? * *")).toMatch(/day of month '\?' is not a number/);
    expect(parseCronPeriod("* 18-8 * * *")).toBe("hour range '18-8' runs backwards");
    expect(parseCronPeriod("*/0 * * * *")).toBe("minute step in '*/0' must be at least 1");
  });

  it("accepts IANA zones and UTC, not abbreviations or 'Local'", () => {
    expect(timeZoneProblem("Europe/Paris")).toBeUndefined();
    expect(timeZoneProblem("America/Argentina/Buenos_Aires")).toBeUndefined();
    expect(timeZoneProblem("UTC")).toBeUndefined();
    expect(timeZoneProblem("CET")).toMatch(/not an IANA time zone name/);
    expect(timeZoneProblem("Local")).toMatch(/must name a zone/);
    expect(timeZoneProblem("Europe/Atlantis")).toMatch(/unknown time zone/);
  });

  it("reads Go durations in hours, minutes and seconds", () => {
    expect(durationSeconds("20m")).toBe(1200);
    expect(durationSeconds("1h30m")).toBe(5400);
    expect(durationSeconds("20m0s")).toBe(1200);
    expect(durationSeconds("20")).toBeUndefined();
    expect(durationSeconds("")).toBeUndefined();
  });
});

describe("the same runners in the other mode, at equal peak capacity (the cost command's comparison)", () => {
  it("cpu → jobs: capacityPerInstance = concurrent, maxInstances = maxSize, the rest as written", () => {
    const cpu = runnersOf(exampleYaml("staging"));
    const other = runnersInMode(cpu, "jobs");
    expect(other).toMatchObject({
      scaling: "jobs",
      capacityPerInstance: 2,
      maxInstances: 3,
      instanceTypes: cpu.instanceTypes,
      jobMemory: "3584m",
      token: cpu.token,
    });
    expect(peakJobs(other)).toBe(peakJobs(cpu));
    expect(runnersInMode(cpu, "cpu")).toBe(cpu);
  });

  it("jobs → cpu: concurrent = capacityPerInstance, maxSize = maxInstances, the reference AWS installation's one always on", () => {
    const jobsRunners = runnersOf(exampleYaml("production"));
    expect(runnersInMode(jobsRunners, "cpu")).toMatchObject({ scaling: "cpu", concurrent: 2, maxSize: 3, minSize: 1, desiredCapacity: 1 });
  });

  it("says why when the other mode refuses the runners", () => {
    const old = runnersOf({ ...exampleYaml("staging"), runners: { ...exampleYaml("staging").runners, version: "16.9.0" } });
    expect(() => runnersInMode(old, "jobs")).toThrow(
      /^the runners cannot run with scaling: jobs: runners\.version: scaling: jobs needs gitlab-runner 17\.1 or newer/,
    );
  });
});
