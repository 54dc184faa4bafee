// Runs the npm commands (cli/run.cjs, as `npm run <command>` does) and the cdktf CLI as
// child processes, in a scratch copy of the examples; or the commands in the test's own
// process, through the function the bundle runs (cliInProcess).
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { join } from "node:path";
import { run } from "../../scripts/verify/tools";
import { REPO_ROOT } from "../helpers";
import { swapProcess } from "./in-process";

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The test's environment with `env` added, as the commands get it. */
function commandEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("GITLAB_ENVIRONMENTS" in env)) delete merged.GITLAB_ENVIRONMENTS;
  return merged;
}

/** `node cli/run.cjs <args>` in the repository, with `env` added to the test's environment. */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: SpawnSyncOptions = {}): Run {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "cli", "run.cjs"), ...args], {
    cwd: REPO_ROOT,
    env: commandEnvironment(env),
    encoding: "utf8",
    timeout: 120_000,
    ...options,
  });
  return { status: r.status, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
}

/**
 * `file args` as a child process, without blocking this process's event loop: a server the
 * test runs here (test/support/fake-gitlab.ts) answers meanwhile. `input` is written to its
 * stdin, a pipe (empty when no input is given).
 */
export async function spawnCaptured(file: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string }): Promise<Run> {
  const r = await run(file, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env, input: options.input ?? "", timeout: 120_000 });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** cli(), as a child process that does not block this process's event loop (spawnCaptured). */
export function cliAsync(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return spawnCaptured(process.execPath, [join(REPO_ROOT, "cli", "run.cjs"), ...args], { env: commandEnvironment(env) });
}

/**
 * What cli() runs, in this process: cli/main.ts's main (the bundle's entry point) with the
 * same environment (./in-process.ts), from the sources (test/cli/bundle.test.ts keeps the
 * bundle writing what they write). An error escaping main comes back as cli/run.cjs prints
 * it, exit 1. Child processes the command starts with stdio "inherit" (terraform) write to
 * this process's own stdout and stderr: not captured.
 */
export async function cliInProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  // Imported when first used: the files that only spawn do not load every command's sources.
  const { main } = await import("../../cli/main");
  const swap = swapProcess(commandEnvironment(env));
  let status: number;
  try {
    status = await main(args);
  } catch (error) {
    status = swap.crashed(error);
  } finally {
    swap.restore();
  }
  return { status, ...swap.captured };
}

/** The cdktf CLI of node_modules, as a user runs `npx cdktf <args>` in the repository. */
export function cdktf(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "node_modules", "cdktf-cli", "bundle", "bin", "cdktf"), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", CI: "true", ...env },
    encoding: "utf8",
    timeout: 180_000,
  });
  return { status: r.status, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
}
