// Backups are scheduled as cron on every platform; the aws instance's systemd timer gets the
// converted OnCalendar. Checked against the real parser: systemd-analyze calendar lists the next
// times the timer fires, which must be exactly the minutes the cron expression matches.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { findTool, INSTALL_HINT, isStrict } from "../../scripts/verify/tools";
import { cronToOnCalendar } from "../../userdata/systemd-calendar";

const SYSTEMD_ANALYZE = findTool("systemd-analyze");
if (!SYSTEMD_ANALYZE && isStrict()) throw new Error(`systemd-analyze is missing (CI=true): ${INSTALL_HINT}`);

const BASE = Date.UTC(2026, 0, 1, 0, 0); // a Thursday
const ITERATIONS = 12;

/** Whether `n` matches one cron field (lists, ranges, steps; `start` is the field's first value). */
function fieldMatches(field: string, n: number, start: number): boolean {
  return field.split(",").some((item) => {
    const [range, step = "1"] = item.split("/") as [string, string?];
    const [from, to] = range === "*" ? [start, Infinity] : range.split("-").map(Number);
    const last = range.includes("-") || range === "*" || item.includes("/") ? (to ?? Infinity) : from!;
    return n >= from! && n <= last && (n - from!) % Number(step) === 0;
  });
}

/** The values of 0..size-1 (plus `start`) that a cron field matches. */
const fieldValues = (field: string, start: number, size: number) =>
  Array.from({ length: size }, (_, i) => i + start).filter((n) => fieldMatches(field, n, start));

/**
 * The next matching minutes after BASE (UTC), by brute force over cron's fields: every day in
 * turn, then the hours and minutes the fields name on the days they match.
 */
function cronTimes(schedule: string, count: number): string[] {
  const [minute, hour, day, month, weekday] = schedule.split(/\s+/) as [string, string, string, string, string];
  const minutes = fieldValues(minute, 0, 60);
  const hours = fieldValues(hour, 0, 24);
  const times: string[] = [];
  for (let midnight = BASE; times.length < count; midnight += 86_400_000) {
    const d = new Date(midnight);
    const dayMatches = fieldMatches(day, d.getUTCDate(), 1) && fieldMatches(month, d.getUTCMonth() + 1, 1) && fieldMatches(weekday, d.getUTCDay(), 0);
    if (!dayMatches) continue;
    for (const h of hours) for (const m of minutes) times.push(new Date(midnight + (h * 60 + m) * 60_000).toISOString().slice(0, 16).replace("T", " "));
  }
  return times.slice(0, count);
}

/** The next times systemd's own parser fires the OnCalendar expression, after BASE. */
function systemdTimes(expression: string, count: number): string[] {
  const out = execFileSync(SYSTEMD_ANALYZE!, ["calendar", `--iterations=${count}`, "--base-time=2025-12-31 23:59:59 UTC", expression], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC" },
  });
  return [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d):00 UTC/g)].map((m) => m[1]!);
}

describe.skipIf(!SYSTEMD_ANALYZE)("cron schedules as systemd OnCalendar", () => {
  it.each(["0 2 * * *", "30 */6 * * 1-5", "5 2 1-15/2 * *", "0 2 * 1,6 1,3", "15 3 * * 0", "*/15 * * * *", "0 0 1 * *", "45 23 * * 6"])(
    "'%s' fires at the same minutes as cron",
    (schedule) => {
      const expression = cronToOnCalendar(schedule);
      expect(systemdTimes(expression, ITERATIONS)).toEqual(cronTimes(schedule, ITERATIONS));
    },
  );

  it("keeps the form the examples always had for a daily run", () => {
    expect(cronToOnCalendar("0 2 * * *")).toBe("*-*-* 02:00:00");
  });
});

describe("cron schedules systemd cannot express", () => {
  it("refuses a day of month with a weekday (cron: either; systemd: both)", () => {
    expect(() => cronToOnCalendar("0 2 1 * 1")).toThrow("a day of month and a weekday together mean either in cron and both in systemd");
  });
  it("refuses a weekday step and an invalid field, naming it", () => {
    expect(() => cronToOnCalendar("0 2 * * */2")).toThrow("weekday '*/2': a step has no OnCalendar equivalent");
    expect(() => cronToOnCalendar("0 25 * * *")).toThrow("hour '25' is out of range 0-23");
  });
});
