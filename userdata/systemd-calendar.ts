// Backups are scheduled in cron form on every platform (one form in config); systemd timers on
// the aws instance take OnCalendar, so the cron expression is converted here. Cron's fields
// map one to one, except that cron runs when EITHER a restricted day of month or a restricted
// weekday matches and systemd only when BOTH do: that combination is refused.
import { cronScheduleProblem } from "./crontab";

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** One cron list ('1,5-9/2,*\/15') in OnCalendar's syntax: '..' for ranges, two digits for times. */
function convertList(field: string, pad: boolean, start: number): string {
  const value = (n: string) => (pad ? n.padStart(2, "0") : n);
  return field
    .split(",")
    .map((item) => {
      const [range, step] = item.split("/") as [string, string | undefined];
      const [from, to] = range.split("-") as [string, string | undefined];
      if (range === "*") return step ? `${value(String(start))}/${step}` : "*";
      const base = to === undefined ? value(from) : `${value(from)}..${value(to)}`;
      return step ? `${base}/${step}` : base;
    })
    .join(",");
}

function convertWeekdays(field: string): string | undefined {
  if (field === "*") return undefined;
  return field
    .split(",")
    .map((item) => {
      if (item.includes("/")) throw new Error(`weekday '${item}': a step has no OnCalendar equivalent; list the days`);
      const [from, to] = item.split("-").map((n) => WEEKDAYS[Number(n)]!);
      return to === undefined ? from : `${from}..${to}`;
    })
    .join(",");
}

/** The OnCalendar expression that fires when the five-field cron schedule (UTC) does. Throws with the reason if none does. */
export function cronToOnCalendar(schedule: string): string {
  const problem = cronScheduleProblem(schedule);
  if (problem) throw new Error(`cron schedule '${schedule}': ${problem}`);
  const [minute, hour, day, month, weekday] = schedule.trim().split(/\s+/) as [string, string, string, string, string];
  if (day !== "*" && weekday !== "*") {
    throw new Error(`cron schedule '${schedule}': a day of month and a weekday together mean either in cron and both in systemd; use one of them`);
  }
  const days = convertWeekdays(weekday);
  const date = `*-${convertList(month, false, 1)}-${convertList(day, false, 1)}`;
  const time = `${convertList(hour, true, 0)}:${convertList(minute, true, 0)}:00`;
  return `${days ? `${days} ` : ""}${date} ${time}`;
}

const SYSTEMD_SHORTHANDS = /^(minutely|hourly|daily|weekly|monthly|yearly|annually|quarterly|semiannually)$/;

/** A systemd OnCalendar expression where a cron schedule now goes: it has a time (hh:mm) or is a shorthand, which cron never is. */
export function isOnCalendarForm(value: unknown): boolean {
  return (
    typeof value === "string" &&
    cronScheduleProblem(value) !== undefined &&
    /^[A-Za-z0-9 *:,./~-]+$/.test(value) &&
    (/\d:\d/.test(value) || SYSTEMD_SHORTHANDS.test(value.trim()))
  );
}
