// Crontabs for busybox crond (the scheduler containers of the docker platform, which have
// no systemd). Besides rendering, this checks what busybox would otherwise get wrong
// silently: values out of range (it wraps them or never runs the job), weekday 7,
// reversed ranges and zero steps. Config uses the same check, so users see it first.

export interface CronEntry {
  /** Five-field cron expression (minute hour day month weekday), evaluated in UTC. */
  readonly schedule: string;
  /** Absolute path of the command, with its arguments. */
  readonly command: string;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "weekday", min: 0, max: 6 },
] as const;

const ITEM = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/;

function fieldProblem(field: (typeof FIELDS)[number], text: string): string | undefined {
  for (const item of text.split(",")) {
    const m = ITEM.exec(item);
    if (!m) return `${field.name} '${item}' is not a number, a range a-b, '*' or one of those with /step`;
    const [, , from, to, step] = m;
    for (const n of [from, to]) {
      if (n !== undefined && (Number(n) < field.min || Number(n) > field.max)) return `${field.name} '${n}' is out of range ${field.min}-${field.max}`;
    }
    if (from !== undefined && to !== undefined && Number(from) > Number(to)) return `${field.name} range '${item}' runs backwards`;
    if (step !== undefined && Number(step) === 0) return `${field.name} step in '${item}' must be at least 1`;
  }
  return undefined;
}

/** What is wrong with a schedule, or undefined when busybox crond will run it as written. */
export function cronScheduleProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) return "must have five fields (minute hour day month weekday), e.g. '0 2 * * *'";
  for (const [i, field] of FIELDS.entries()) {
    const problem = fieldProblem(field, fields[i] ?? "");
    if (problem) return problem;
  }
  return undefined;
}

/** The five fields normalized to single spaces; throws with the reason when invalid. */
export function normalizeCronSchedule(schedule: string): string {
  const problem = cronScheduleProblem(schedule);
  if (problem) throw new Error(`cron schedule '${schedule}': ${problem}`);
  return schedule.trim().split(/\s+/).join(" ");
}

export function renderCrontab(entries: readonly CronEntry[], description: string): string {
  const lines = entries.map((e) => {
    if (!e.command.startsWith("/") || /[\n%]/.test(e.command)) {
      throw new Error(`cron command must be one absolute command line without '%': '${e.command}'`);
    }
    return `${normalizeCronSchedule(e.schedule)} ${e.command}`;
  });
  return [
    `# ${description} (gitlab-platform). busybox crond; times are UTC.`,
    "# Output goes to crond's stdout: the scheduler container's docker logs.",
    "# minute hour day month weekday command",
    ...lines,
    "",
  ].join("\n");
}
