// Settings renamed so that one idea has one name, and forms replaced so that one setting has
// one form on every platform. An old key or form keeps working for one release: it is read as
// the new one, and a notice names the new key (synth and check print it as a warning). Setting
// both the old and the new key is an error. A rename may change the form too (true → 'socket'):
// its `values` table says how each old value reads. Remove an entry one release after it was added.
import { isOnCalendarForm } from "../userdata/systemd-calendar";

export interface DeprecationNotice {
  readonly path: readonly string[];
  readonly message: string;
}

interface Rename {
  readonly platforms: readonly string[];
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** Why the new name, in a few words. */
  readonly why: string;
  /** When the form changed with the name: each old value and the new value it is read as (any other old value is refused). */
  readonly values?: readonly (readonly [old: unknown, now: unknown])[];
}

interface ReplacedForm {
  readonly platforms: readonly string[];
  readonly path: readonly string[];
  readonly isOld: (value: unknown) => boolean;
  readonly message: string;
}

export const RENAMES: readonly Rename[] = [
  { platforms: ["docker"], from: ["docker", "shmSize"], to: ["docker", "shmSizeMb"], why: "the unit in the name, like the other sizes" },
  {
    platforms: ["docker"],
    from: ["observability", "retentionDays"],
    to: ["observability", "metricsRetentionDays"],
    why: "it is Prometheus's retention, not a log's or a backup's",
  },
  {
    platforms: ["aws"],
    from: ["runners", "mountDockerSocket"],
    to: ["runners", "dockerAccess"],
    why: "the docker platform's name and form",
    values: [
      [true, "socket"],
      [false, "none"],
    ],
  },
];

export const REPLACED_FORMS: readonly ReplacedForm[] = [
  {
    platforms: ["aws"],
    path: ["backups", "schedule"],
    isOld: isOnCalendarForm,
    message:
      "a systemd OnCalendar expression is deprecated here: write the schedule as cron in UTC, as on the other platforms (e.g. '0 2 * * *' for daily at 02:00); it is converted for the instance's timer",
  },
];

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parentOf(config: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | undefined {
  let node: unknown = config;
  for (const key of path.slice(0, -1)) node = isMapping(node) ? node[key] : undefined;
  return isMapping(node) ? node : undefined;
}

/** A value as YAML would show it, cut short (the old value is echoed in a problem). */
function quoted(v: unknown): string {
  const text = typeof v === "string" ? `'${v}'` : (JSON.stringify(v) ?? String(v));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** An old key's value in its new key's form, or why it has neither form. */
function convert(r: Rename, value: unknown): { value: unknown } | { problem: string } {
  if (!r.values) return { value };
  const match = r.values.find(([old]) => old === value);
  if (match) return { value: match[1] };
  const olds = r.values.map(([old]) => quoted(old)).join(" or ");
  const news = r.values.map(([, now]) => quoted(now)).join(" or ");
  return { problem: `must be ${olds}, got ${quoted(value)}; renamed ${r.to.join(".")}, which takes ${news}` };
}

/**
 * The config with every old key moved to its new name (a copy: the input is not changed), the
 * notices to print, and the conflicts to report as problems (old and new key both set, or an
 * old key's value of neither form).
 */
export function migrateDeprecated(raw: Record<string, unknown>): {
  config: Record<string, unknown>;
  notices: DeprecationNotice[];
  conflicts: DeprecationNotice[];
  /** A path of the config as the file wrote it (a problem with a renamed value is shown at its old key). */
  asWritten(path: readonly PropertyKey[]): PropertyKey[];
} {
  const config = structuredClone(raw);
  const platform = String(config.platform);
  const notices: DeprecationNotice[] = [];
  const conflicts: DeprecationNotice[] = [];
  const moved: Rename[] = [];
  for (const r of RENAMES.filter((r) => r.platforms.includes(platform))) {
    const from = parentOf(config, r.from);
    const oldKey = r.from[r.from.length - 1]!;
    if (!from || !(oldKey in from)) continue;
    const to = parentOf(config, r.to);
    const newKey = r.to[r.to.length - 1]!;
    if (to && newKey in to) {
      conflicts.push({ path: r.from, message: `renamed ${r.to.join(".")}, which is set too: remove this one` });
      delete from[oldKey];
      continue;
    }
    const converted = convert(r, from[oldKey]);
    delete from[oldKey];
    if ("problem" in converted) {
      conflicts.push({ path: r.from, message: converted.problem });
      continue;
    }
    if (to) to[newKey] = converted.value;
    moved.push(r);
    const write = r.values ? `: write ${newKey}: ${String(converted.value)}` : "";
    notices.push({ path: r.from, message: `renamed ${r.to.join(".")} (${r.why})${write}; the old name is read until the next release` });
  }
  for (const f of REPLACED_FORMS.filter((f) => f.platforms.includes(platform))) {
    const value = parentOf(config, f.path)?.[f.path[f.path.length - 1]!];
    if (f.isOld(value)) notices.push({ path: f.path, message: f.message });
  }
  const asWritten = (path: readonly PropertyKey[]) => {
    const r = moved.find((m) => m.to.every((key, i) => path[i] === key));
    return r ? [...r.from, ...path.slice(r.to.length)] : [...path];
  };
  return { config, notices, conflicts, asWritten };
}
