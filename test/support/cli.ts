// Runs the npm commands (cli/run.cjs, as `npm run <command>` does) and the cdktf CLI as
// child processes, in a scratch copy of the examples.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers";

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node cli/run.cjs <args>` in the repository, with `env` added to the test's environment. */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}, options: SpawnSyncOptions = {}): Run {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!("GITLAB_ENVIRONMENTS" in env)) delete merged.GITLAB_ENVIRONMENTS;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "cli", "run.cjs"), ...args], {
    cwd: REPO_ROOT,
    env: merged,
    encoding: "utf8",
    timeout: 120_000,
    ...options,
  });
  return { status: r.status, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
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
