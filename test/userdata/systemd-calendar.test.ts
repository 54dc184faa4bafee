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

/** The next matching minutes after BASE, by brute force over cron's fields (UTC). */
function cronTimes(schedule: string, count: number): string[] {
  const fields = schedule.split(/\s+/);
  const matches = (field: string, n: number, start: number) =>
    field.split(",").some((item) => {
      const [range, step = "1"] = item.split("/") as [string, string?];
      const [from, to] = range === "*" ? [start, Infinity] : range.split("-").map(Number);
      const last = range.includes("-") || range === "*" || item.includes("/") ? (to ?? Infinity) : from!;
      return n >= from! && n <= last && (n - from!) % Number(step) === 0;
    });
  const times: string[] = [];
  for (let t = BASE; times.length < count; t += 60_000) {
    const d = new Date(t);
    const [minute, hour, day, month, weekday] = fields as [string, string, string, string, string];
    if (
      matches(minute, d.getUTCMinutes(), 0) &&
      matches(hour, d.getUTCHours(), 0) &&
      matches(day, d.getUTCDate(), 1) &&
      matches(month, d.getUTCMonth() + 1, 1) &&
      matches(weekday, d.getUTCDay(), 0)
    ) {
      times.push(d.toISOString().slice(0, 16).replace("T", " "));
    }
  }
  return times;
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
