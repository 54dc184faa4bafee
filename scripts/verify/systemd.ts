// systemd units are verified the way systemd loads them: together (a timer needs its service),
// in a throwaway root holding this machine's stock units plus ours, with stub executables at
// every path our Exec* lines name (the real ones come from packages installed at boot).
// Drop-ins (gitlab-runner.service.d/log-file.conf) are staged in their unit's .d directory and
// verified by verifying that unit: ours, a stock one, or a stub when a package brings it at boot.
import { cpSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join, posix, resolve } from "node:path";
import { inScratch, missing, scratchDirectory, verdict, withTool, writeScratch, type CheckResult } from "./result";
import { findTool, outputLines, run } from "./tools";

export interface UnitFile {
  /** Target path, e.g. /etc/systemd/system/gitlab-backup.service or …/x.service.d/y.conf. */
  readonly path: string;
  readonly content: string;
}

/** The unit a drop-in extends ("…/gitlab-runner.service.d/log-file.conf" → "gitlab-runner.service"). */
export function dropInUnit(path: string): string | undefined {
  return /\/([^/]+)\.d\/[^/]+\.conf$/.exec(path)?.[1];
}

/** Where a file sits under /etc/systemd/system: its name, or "<unit>.d/<name>" for a drop-in. */
function stagedName(u: UnitFile): string {
  const unit = dropInUnit(u.path);
  return unit ? `${unit}.d/${posix.basename(u.path)}` : posix.basename(u.path);
}

export const HOST_UNITS = "/lib/systemd/system";
const TOOL = "systemd-analyze verify";

/** Values of `Key=` lines, in order (no section awareness needed for these keys). */
function values(content: string, key: RegExp): string[] {
  const out: string[] = [];
  for (const line of content.split("\n")) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && key.test(m[1] ?? "")) out.push(m[2] ?? "");
  }
  return out;
}

/** Absolute executables of Exec* lines ("-/usr/bin/x arg" → "/usr/bin/x"). */
export function execPaths(content: string): string[] {
  return values(content, /^Exec(Start|StartPre|StartPost|Stop|StopPost|Reload|Condition)$/)
    .map((v) => v.replace(/^[-@:+!]+/, "").trim())
    .map((v) => (v.startsWith('"') ? (v.slice(1).split('"')[0] ?? "") : (v.split(/\s+/)[0] ?? "")))
    .filter((p) => p.startsWith("/"));
}

/** Unit names in hard dependencies, which systemd-analyze requires to exist. */
function hardDependencies(content: string): string[] {
  return values(content, /^(Requires|Requisite|BindsTo)$/)
    .flatMap((v) => v.split(/\s+/))
    .filter(Boolean);
}

/** A minimal unit standing in for one a package installs at boot. */
function stubUnit(root: string, name: string): string {
  const body = name.endsWith(".service") ? "\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n" : "";
  return writeScratch(`${root}/lib/systemd/system`, name, `[Unit]\nDescription=stub for verification\n${body}`);
}

/**
 * Whether anything is at `path`, a symlink included (dangling or not): stubs go only where
 * nothing is, so that a write never follows a link out of the root onto this machine's files.
 */
const occupied = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined;

/** A unit file's text; none for a link that leads nowhere (systemd-analyze reports that unit itself). */
function readIfAny(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** The unit file systemd would load for `name` in the root, if any (an instance falls back to its template). */
export function findUnit(root: string, name: string): string | undefined {
  const template = name.replace(/@[^.]*\./, "@.");
  for (const dir of [`${root}/etc/systemd/system`, `${root}/lib/systemd/system`]) {
    for (const n of [name, template]) if (occupied(`${dir}/${n}`)) return `${dir}/${n}`;
  }
  return undefined;
}

interface Staged {
  /** Unit files to pass to systemd-analyze verify: ours, and the units our drop-ins extend. */
  readonly verify: string[];
  /** Units that drop-ins extend but that are not ours (stock or stubbed), by name. */
  readonly extended: Set<string>;
  /** Extended units that had to be stubbed (a note on their drop-ins only). */
  readonly stubbed: Set<string>;
  /** Dependencies that had to be stubbed (a note on every unit of the group). */
  readonly notes: string[];
}

let stockCopy: string | undefined;

/**
 * This machine's stock units, copied once per process and scratch directory (removed when the
 * process exits) for every root to hard-link: copying ~300 files for each group of units was
 * most of a check's own time (39 -> 14 ms). The links lead to this private copy, never to the
 * machine's own files; and nothing writes to a stock unit in a root (stubs and our units go
 * only where no file is).
 */
export function stockUnitsCopy(): string {
  if (stockCopy === undefined || !stockCopy.startsWith(`${scratchDirectory()}/`) || !existsSync(stockCopy)) {
    const dir = mkdtempSync(join(scratchDirectory(), "stock-units-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    cpSync(realpathSync(HOST_UNITS), dir, { recursive: true, verbatimSymlinks: true });
    stockCopy = dir;
  }
  return stockCopy;
}

/** `from`'s tree at `to`, each file and symlink hard-linked (copied where linking fails). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target);
    else {
      try {
        linkSync(source, target);
      } catch {
        cpSync(source, target, { verbatimSymlinks: true });
      }
    }
  }
}

/** Builds the root. */
function stageRoot(root: string, units: readonly UnitFile[]): Staged {
  const lib = `${root}/lib/systemd/system`;
  const etc = `${root}/etc/systemd/system`;
  mkdirSync(etc, { recursive: true });
  if (existsSync(HOST_UNITS)) linkTree(stockUnitsCopy(), lib);
  else mkdirSync(lib, { recursive: true });
  const verify: string[] = [];
  for (const u of units) {
    const file = writeScratch(etc, stagedName(u), u.content);
    if (!dropInUnit(u.path)) verify.push(file);
  }
  const notes: string[] = [];
  const stubbed = new Set<string>();
  // A drop-in is loaded with its unit; when the unit comes from a package installed at boot
  // (gitlab-runner.service), a stub stands in so the drop-in's own lines are still checked.
  const ours = new Set(units.filter((u) => !dropInUnit(u.path)).map((u) => posix.basename(u.path)));
  const extended = new Set(units.map((u) => dropInUnit(u.path)).filter((n): n is string => n !== undefined && !ours.has(n)));
  const contents = units.map((u) => u.content);
  for (const name of extended) {
    let file = findUnit(root, name);
    if (!file) {
      file = stubUnit(root, name);
      stubbed.add(name);
    }
    verify.push(file);
    contents.push(readIfAny(file));
  }
  // Units from packages installed at boot (docker.service, gitlab-runsvdir.service) are not on
  // this machine; stub them so a Requires= on them is not a false alarm, but say so.
  for (const dep of new Set(contents.flatMap((c) => hardDependencies(c)))) {
    if (findUnit(root, dep)) continue;
    contents.push(readFileSync(stubUnit(root, dep), "utf8"));
    notes.push(`stubbed dependency ${dep} (not a stock unit on this machine)`);
  }
  for (const exe of new Set(contents.flatMap((c) => execPaths(c)))) {
    if (!occupied(`${root}${exe}`)) writeScratch(root, exe, "#!/bin/sh\n", 0o755);
  }
  return { verify, extended, stubbed, notes };
}

/** A timer must ship with the unit it activates (Unit= or the same-named .service). */
function orphanTimers(units: readonly UnitFile[], root: string): Map<string, string> {
  const problems = new Map<string, string>();
  for (const u of units.filter((x) => x.path.endsWith(".timer"))) {
    const target = values(u.content, /^Unit$/)[0] ?? posix.basename(u.path).replace(/\.timer$/, ".service");
    const ours = units.some((x) => posix.basename(x.path) === target);
    if (!ours && !existsSync(`${root}/lib/systemd/system/${target}`)) {
      problems.set(u.path, `${posix.basename(u.path)} activates ${target}, which is not generated alongside it`);
    }
  }
  return problems;
}

/** Whether a log line names this unit (so "backup.service" does not match "gitlab-backup.service"). */
function mentions(line: string, unit: string): boolean {
  return new RegExp(`(^|[^\\w@.-])${unit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w.-])`).test(line);
}

/** `systemd-analyze calendar EXPR`: the parser OnCalendar= uses. */
export function checkCalendar(expression: string): Promise<CheckResult> {
  return withTool(
    "systemd-analyze",
    async (bin) => {
      const r = await run(bin, ["calendar", expression]);
      const why = outputLines(r.stderr).join(" ") || `exit ${r.code}`;
      return verdict("systemd-analyze calendar", r.code === 0 ? [] : [`OnCalendar=${expression}: ${why}`]);
    },
    true,
  );
}

/**
 * Verifies units that are installed together; one result per unit path. systemd-analyze exits
 * 0 on most problems, so any output at all is a finding.
 */
export async function checkSystemdUnits(units: readonly UnitFile[]): Promise<Map<string, CheckResult>> {
  const results = new Map<string, CheckResult>();
  if (units.length === 0) return results;
  const bin = findTool("systemd-analyze");
  if (!bin) {
    for (const u of units) results.set(u.path, missing("systemd-analyze", true));
    return results;
  }
  await inScratch(async (scratch) => {
    const root = resolve(scratch);
    const { verify, extended, stubbed, notes } = stageRoot(root, units);
    const orphans = orphanTimers(units, root);
    const r = await run(bin, ["verify", `--root=${root}`, "--man=no", ...verify]);
    const lines = outputLines(r.stdout, r.stderr).map((l) => l.split(`${root}/etc/systemd/system/`).join("").split(`${root}/lib/systemd/system/`).join(""));
    if (r.code !== 0 && lines.length === 0) lines.push(`systemd-analyze verify exited ${r.code}`);
    const names = [...units.map(stagedName), ...extended];
    for (const u of units) {
      const name = stagedName(u);
      const unit = dropInUnit(u.path);
      // A drop-in also answers for lines about the unit it extends when that unit is not ours
      // ("gitlab-runner.service: Service has no ExecStart=" after a drop-in's "ExecStart=").
      const owns = (l: string) => mentions(l, name) || (unit !== undefined && extended.has(unit) && mentions(l, unit));
      // Lines naming no unit of ours (rare) are charged to every unit in the group.
      const mine = lines.filter((l) => owns(l) || !names.some((n) => mentions(l, n)));
      const calendar = await Promise.all(values(u.content, /^OnCalendar$/).map((e) => checkCalendar(e)));
      const orphan = orphans.get(u.path);
      const findings = [...mine, ...calendar.flatMap((c) => c.findings), ...(orphan ? [orphan] : [])];
      const stub = unit && stubbed.has(unit) ? [`stubbed ${unit} to load this drop-in (not a stock unit on this machine)`] : [];
      results.set(u.path, verdict(TOOL, findings, [...notes, ...stub]));
    }
  });
  return results;
}
