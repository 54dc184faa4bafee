// Locating validator binaries and running them. A missing validator is a failure in CI (a
// check silently skipped there is a check that does not exist) and a warning on a laptop.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/** sbin dirs are often not on a non-root PATH, but systemd-analyze & co. live there on Debian. */
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export const INSTALL_HINT = "run scripts/install-validators.sh";

export function isStrict(): boolean {
  return process.env.CI === "true";
}

const found = new Map<string, string | undefined>();

/** Absolute path of an executable on PATH (or a standard bin dir), or undefined. */
export function findTool(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...EXTRA_DIRS];
  let hit: string | undefined;
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      hit = join(dir, name);
      break;
    } catch {
      // not here
    }
  }
  found.set(name, hit);
  return hit;
}

export function hasTool(name: string): boolean {
  return findTool(name) !== undefined;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin, through a pipe (without it, stdin is /dev/null). */
  readonly input?: string;
  /** Killed (SIGTERM) after this many milliseconds. */
  readonly timeout?: number;
}

/** Runs a command to completion, capturing output; never throws for a non-zero exit. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdin = options.input === undefined ? "ignore" : "pipe";
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: [stdin, "pipe", "pipe"], timeout: options.timeout });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin?.end(options.input);
  });
}

/**
 * The environment for promtool's unit tests: Go's runtime on one thread, collecting less
 * often. The tests allocate much and run beside other checks: parallel collection costs more
 * than it saves on a busy machine. The same results for about a quarter less CPU; peak memory
 * stays under 100 MB.
 */
export const goToolEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GOMAXPROCS: "1", GOGC: "200" });

/** Non-empty, trimmed output lines, for reporting. */
export function outputLines(...texts: string[]): string[] {
  return texts
    .flatMap((t) => t.split("\n"))
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
}
