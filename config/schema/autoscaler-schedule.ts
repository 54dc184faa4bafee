// The pieces of a docker-autoscaler idle policy that config checks and the cost estimate
// reads: five-field cron periods (minute hour day month weekday, with names such as 'mon-fri'
// and 'jan'), IANA time zones and Go durations. Pure; no zod here, so cost/ can use it too.
//
// The runner's taskscaler keeps its own cron parser; this accepts the subset every common
// parser reads the same way: numbers, '*', ranges a-b, lists a,b and steps /n, plus English
// three-letter names for months and weekdays. Weekday 7 is refused (only some parsers read it
// as Sunday), as are '?', 'L', '#' and the '@daily' shorthands.

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "weekday", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

const ITEM = /^(\*|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:\/(\d+))?$/;

/** The minutes, hours, days, months and weekdays a period matches. */
export interface CronPeriod {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  /** Day of month and weekday both restricted: cron matches either (the classic OR rule). */
  readonly dayOrWeekday: boolean;
}

function value(field: Field, text: string): number | string {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) return `${field.name} '${text}' is not a number${field.names ? ` or a name (${field.names.slice(0, 3).join(", ")}, …)` : ""}`;
  const n = Number(text);
  return n < field.min || n > field.max ? `${field.name} '${text}' is out of range ${field.min}-${field.max}` : n;
}

function fieldValues(field: Field, text: string): Set<number> | string {
  const values = new Set<number>();
  for (const item of text.toLowerCase().split(",")) {
    const m = ITEM.exec(item);
    if (!m) return `${field.name} '${item}' is not a number, a name, a range a-b, '*' or one of those with /step`;
    const [, , fromText, toText, stepText] = m;
    const from = fromText === undefined ? field.min : value(field, fromText);
    if (typeof from === "string") return from;
    const to = toText !== undefined ? value(field, toText) : fromText === undefined || stepText !== undefined ? field.max : from;
    if (typeof to === "string") return to;
    if (from > to) return `${field.name} range '${item}' runs backwards`;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step === 0) return `${field.name} step in '${item}' must be at least 1`;
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

/** The period an expression describes, or what is wrong with it. */
export function parseCronPeriod(expression: string): CronPeriod | string {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) return "must have five fields (minute hour day month weekday), e.g. '* 8-18 * * mon-fri'";
  const sets: Set<number>[] = [];
  for (const [i, field] of FIELDS.entries()) {
    const parsed = fieldValues(field, parts[i]!);
    if (typeof parsed === "string") return parsed;
    sets.push(parsed);
  }
  const [minutes, hours, days, months, weekdays] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  return { minutes, hours, days, months, weekdays, dayOrWeekday: parts[2] !== "*" && parts[4] !== "*" };
}

/** A moment in the policy's own time zone. */
export interface LocalTime {
  readonly minute: number;
  readonly hour: number;
  readonly day: number;
  readonly month: number;
  /** 0 = Sunday. */
  readonly weekday: number;
}

export function periodMatches(p: CronPeriod, t: LocalTime): boolean {
  if (!p.minutes.has(t.minute) || !p.hours.has(t.hour) || !p.months.has(t.month)) return false;
  return p.dayOrWeekday ? p.days.has(t.day) || p.weekdays.has(t.weekday) : p.days.has(t.day) && p.weekdays.has(t.weekday);
}

/** True for an expression that matches every minute ('* * * * *' or an equivalent). */
export function matchesAlways(p: CronPeriod): boolean {
  return p.minutes.size === 60 && p.hours.size === 24 && p.days.size === 31 && p.months.size === 12 && p.weekdays.size === 7;
}

/** A time zone Go's time.LoadLocation accepts: an IANA name such as 'Europe/Paris', or 'UTC'. */
export function timeZoneProblem(zone: string): string | undefined {
  if (zone === "UTC") return undefined;
  if (zone === "Local") return "must name a zone: 'Local' is the manager's own clock (UTC on Amazon Linux); write 'UTC' or an IANA name";
  if (!/^[A-Za-z]+(\/[A-Za-z0-9_+-]+)+$/.test(zone)) return `'${zone}' is not an IANA time zone name like 'Europe/Paris' or 'America/New_York'`;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return undefined;
  } catch {
    return `unknown time zone '${zone}'; use an IANA name like 'Europe/Paris'`;
  }
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** A Go duration in the units an idle time needs ('30m', '1h30m', '20m0s'), in seconds; undefined when not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === "" || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
