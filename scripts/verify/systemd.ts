// systemd units are verified the way systemd loads them: together (a timer needs its service),
// in a throwaway root holding this machine's stock units plus ours, with stub executables at
// every path our Exec* lines name (the real ones come from packages installed at boot).
import { cpSync, existsSync, mkdirSync, realpathSync } from "node:fs";
import { posix, resolve } from "node:path";
import { inScratch, missing, verdict, withTool, writeScratch, type CheckResult } from "./result";
import { findTool, outputLines, run } from "./tools";

export interface UnitFile {
  /** Target path, e.g. /etc/systemd/system/gitlab-backup.service. */
  readonly path: string;
  readonly content: string;
}

const HOST_UNITS = "/lib/systemd/system";
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
  return values(content, /^(Requires|Requisite|BindsTo)$/).flatMap((v) => v.split(/\s+/)).filter(Boolean);
}

/** Builds the root; returns notes about dependencies that had to be stubbed. */
function stageRoot(root: string, units: readonly UnitFile[]): string[] {
  const lib = `${root}/lib/systemd/system`;
  const etc = `${root}/etc/systemd/system`;
  mkdirSync(etc, { recursive: true });
  if (existsSync(HOST_UNITS)) cpSync(realpathSync(HOST_UNITS), lib, { recursive: true, verbatimSymlinks: true });
  else mkdirSync(lib, { recursive: true });
  for (const u of units) writeScratch(etc, posix.basename(u.path), u.content);
  for (const exe of units.flatMap((u) => execPaths(u.content))) {
    if (!existsSync(`${root}${exe}`)) writeScratch(root, exe, "#!/bin/sh\n", 0o755);
  }
  // Units from packages installed at boot (docker.service, gitlab-runsvdir.service) are not on
  // this machine; stub them so a Requires= on them is not a false alarm, but say so.
  const notes: string[] = [];
  for (const dep of new Set(units.flatMap((u) => hardDependencies(u.content)))) {
    const template = dep.replace(/@[^.]*\./, "@.");
    if ([dep, template].some((n) => existsSync(`${lib}/${n}`) || existsSync(`${etc}/${n}`))) continue;
    const body = dep.endsWith(".service") ? "\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n" : "";
    writeScratch(lib, dep, `[Unit]\nDescription=stub for verification\n${body}`);
    if (body && !existsSync(`${root}/bin/true`)) writeScratch(root, "bin/true", "#!/bin/sh\n", 0o755);
    notes.push(`stubbed dependency ${dep} (not a stock unit on this machine)`);
  }
  return notes;
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
    const notes = stageRoot(root, units);
    const orphans = orphanTimers(units, root);
    const files = units.map((u) => `${root}/etc/systemd/system/${posix.basename(u.path)}`);
    const r = await run(bin, ["verify", `--root=${root}`, "--man=no", ...files]);
    const lines = outputLines(r.stdout, r.stderr).map((l) => l.split(`${root}/etc/systemd/system/`).join(""));
    if (r.code !== 0 && lines.length === 0) lines.push(`systemd-analyze verify exited ${r.code}`);
    const names = units.map((u) => posix.basename(u.path));
    for (const u of units) {
      const name = posix.basename(u.path);
      // Lines naming no unit of ours (rare) are charged to every unit in the group.
      const mine = lines.filter((l) => mentions(l, name) || !names.some((n) => mentions(l, n)));
      const calendar = await Promise.all(values(u.content, /^OnCalendar$/).map((e) => checkCalendar(e)));
      const orphan = orphans.get(u.path);
      const findings = [...mine, ...calendar.flatMap((c) => c.findings), ...(orphan ? [orphan] : [])];
      results.set(u.path, verdict(TOOL, findings, notes));
    }
  });
  return results;
}
