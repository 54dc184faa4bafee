// The outcome of one check, and the scratch files validators need (they only read files).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { INSTALL_HINT, findTool, isStrict } from "./tools";

export type Status = "ok" | "FAIL" | "skipped";

export interface CheckResult {
  readonly tool: string;
  readonly status: Status;
  /** Why it failed (or was skipped); empty when ok. */
  readonly findings: readonly string[];
  /** Worth reading but not failing on, e.g. cloud-init deprecations. */
  readonly notes?: readonly string[];
}

export function ok(tool: string, notes: readonly string[] = []): CheckResult {
  return notes.length ? { tool, status: "ok", findings: [], notes } : { tool, status: "ok", findings: [] };
}

export function verdict(tool: string, findings: readonly string[], notes: readonly string[] = []): CheckResult {
  return findings.length ? { tool, status: "FAIL", findings, notes } : ok(tool, notes);
}

/** A validator that is not installed: fatal in CI (or when `always`), a skip elsewhere. */
export function missing(binary: string, always = false): CheckResult {
  const message = `missing validator ${binary}: ${INSTALL_HINT}`;
  return { tool: binary, status: isStrict() || always ? "FAIL" : "skipped", findings: [message] };
}

/** Runs `fn` with the tool's path, or returns the missing-tool result. */
export async function withTool(binary: string, fn: (path: string) => Promise<CheckResult>, always = false): Promise<CheckResult> {
  const path = findTool(binary);
  return path ? fn(path) : missing(binary, always);
}

let scratchRoot = tmpdir();

/** main points this at verify.out/ so nothing is left in /tmp; tests use the default. */
export function setScratchRoot(dir: string): void {
  mkdirSync(dir, { recursive: true });
  scratchRoot = dir;
}

/** Where checks make their scratch directories. */
export const scratchDirectory = (): string => scratchRoot;

/** A fresh directory for one check, removed after `fn` whatever happens. */
export async function inScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(scratchRoot, "check-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `content` at `relative` under `dir` (creating parents) and returns the full path. */
export function writeScratch(dir: string, relative: string, content: string, mode = 0o644): string {
  const path = join(dir, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  return path;
}

/** Tool output mentions our scratch path; readers want the artifact's own path. */
export function relabel(lines: readonly string[], scratchPath: string, label: string): string[] {
  return lines.map((l) => l.split(scratchPath).join(label));
}
