// `npm run plan -- <env>` and `npm run deploy -- <env>`: Terraform in each of the
// environment's stack directories (cdktf.out/stacks/<stack>), as the pipeline runs it.
// Terraform is the user's (≥ 1.10, on PATH); its first `init` downloads the providers.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadEnvironments } from "../config/load";
import { planCounts } from "../scripts/ci/plan-summary";
import type { Environment } from "../config/load";
import { environmentStackNames } from "../stacks/app";
import { gitlabStackName } from "../stacks/gitlab-content-stack";
import { gitlabReachable } from "./gitlab-access";
import { waitForGitLab } from "./gitlab-wait";
import { stackStateVariables } from "./stack-state";
import { configDir, shown, stackDir } from "./paths";
import { printWarning, UsageError } from "./report";
import { synthesize } from "./synth";

export const PLAN_FILE = "plan.tfplan";

/** Runs terraform in `cwd`; its output goes straight to the user unless captured. */
function terraform(args: readonly string[], cwd: string, options: SpawnSyncOptions = {}) {
  const result = spawnSync(process.env.TERRAFORM ?? "terraform", args, { cwd, stdio: "inherit", maxBuffer: 1 << 30, ...options });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new UsageError(
      "terraform: not found on PATH. plan and deploy run Terraform (>= 1.10); its first init downloads the providers, so it needs network access to the provider registry.",
    );
  }
  if (result.error) throw result.error;
  return result;
}

/** Runs each step in order; the first that fails stops the rest, and its exit code is returned. */
function steps(cwd: string, vars: NodeJS.ProcessEnv, ...argvs: (readonly string[])[]): number {
  for (const args of argvs) {
    const status = terraform(args, cwd, { env: { ...process.env, ...vars } }).status ?? 1;
    if (status !== 0) return status;
  }
  return 0;
}

function oneEnvironment(command: string, names: readonly string[]): string {
  if (names.length !== 1) throw new UsageError(`usage: npm run ${command} -- <environment>   (one environment; ${names.length} given)`);
  return names[0]!;
}

const INIT = ["init", "-input=false"] as const;

/** The environment's second stack (what lives inside GitLab): it needs GitLab up to plan or apply. */
const isContentStack = (environment: Environment, stack: string) => stack === gitlabStackName(environment);

export async function planCommand(names: readonly string[]): Promise<number> {
  const name = oneEnvironment("plan", names);
  const result = synthesize([name]);
  const [environment] = loadEnvironments(configDir(), [name]);
  // Each stack's own state address, checked before any stack runs.
  const states = Object.fromEntries(result.synthesized.map((s) => [s.name, stackStateVariables(name, s.name)]));
  for (const stack of result.synthesized) {
    const dir = stack.directory;
    let vars: NodeJS.ProcessEnv = {};
    if (isContentStack(environment!, stack.name)) {
      const access = await gitlabReachable(environment!);
      if (access.problem) {
        // A first deploy: GitLab does not run yet, so nothing inside it can be planned.
        rmSync(join(dir, PLAN_FILE), { force: true });
        process.stdout.write(
          `\n== ${stack.name}: not planned: GitLab cannot be reached yet (${access.problem}). npm run deploy -- ${name} applies ${name}, waits for GitLab, then plans ${stack.name} and asks.\n`,
        );
        continue;
      }
      vars = access.vars;
    }
    const status = planStack(stack.name, dir, name, { ...vars, ...states[stack.name] });
    if (status !== 0) return status;
  }
  return 0;
}

function planStack(stack: string, dir: string, environment: string, vars: NodeJS.ProcessEnv): number {
  process.stdout.write(`\n== ${stack}: terraform init and plan in ${shown(dir)}\n`);
  const status = steps(dir, vars, INIT, ["plan", "-input=false", "-lock-timeout=5m", `-out=${PLAN_FILE}`]);
  if (status !== 0) return status;
  const shown_ = terraform(["show", "-json", PLAN_FILE], dir, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", env: { ...process.env, ...vars } });
  if (shown_.status !== 0) return shown_.status ?? 1;
  const counts = planCounts(JSON.parse(String(shown_.stdout)));
  process.stdout.write(
    `${stack}: ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete; saved as ${shown(join(dir, PLAN_FILE))}: apply it with npm run deploy -- ${environment}\n`,
  );
  return 0;
}

/** The saved plan of a stack, if there is one made after the stack was last synthesized. */
function savedPlan(dir: string): { file: string; stale: boolean } | undefined {
  const file = join(dir, PLAN_FILE);
  if (!existsSync(file)) return undefined;
  const synthesized = statSync(join(dir, "cdk.tf.json"), { throwIfNoEntry: false });
  return { file, stale: !synthesized || synthesized.mtimeMs > statSync(file).mtimeMs };
}

/**
 * Applies the environment's stacks in order. With fresh saved plans (the second stack's may
 * be missing: it cannot be planned before GitLab runs), each is applied as reviewed; the
 * second stack without one is planned and confirmed on a terminal. Without a fresh plan of
 * the first, on a terminal, everything is planned again and Terraform asks before each apply.
 * Before the second stack, deploy waits (bounded) for GitLab.
 */
export async function deployCommand(names: readonly string[], interactive = Boolean(process.stdin.isTTY)): Promise<number> {
  const name = oneEnvironment("deploy", names);
  // Reads the config only to know the environment and its stacks: a saved plan is applied as
  // it was reviewed, without synthesizing again.
  const [environment] = loadEnvironments(configDir(), [name], printWarning);
  const stacks = environmentStackNames(environment!).map((stack) => ({ stack, dir: stackDir(stack), plan: savedPlan(stackDir(stack)) }));
  const [first, ...rest] = stacks;
  // Each stack's own state address, checked before anything is applied.
  const states = Object.fromEntries(stacks.map((p) => [p.stack, stackStateVariables(name, p.stack)]));
  if (first!.plan && !first!.plan.stale && rest.every((p) => !p.plan?.stale)) {
    for (const { stack, dir, plan } of stacks) {
      const state = states[stack];
      const vars = isContentStack(environment!, stack) ? await waitForGitLab(environment!, stack) : {};
      const status = plan ? applySaved(stack, dir, { ...vars, ...state }) : applyAsking(stack, dir, { ...vars, ...state }, name, interactive);
      if (status !== 0) return status;
    }
    return 0;
  }
  const why = stacks.some((p) => p.plan?.stale)
    ? `the saved plan of ${name} is older than its last synth`
    : `${name} has no saved plan (npm run plan -- ${name} makes one)`;
  if (!interactive) {
    throw new UsageError(
      `deploy: ${why}, and there is no terminal to confirm a new plan on: nothing was applied. Run npm run plan -- ${name}, review it, then deploy.`,
    );
  }
  process.stdout.write(`deploy: ${why}: planning now; Terraform shows the plan and asks before it changes anything.\n`);
  const result = synthesize([name]);
  for (const stack of result.synthesized) {
    const state = states[stack.name];
    const vars = isContentStack(environment!, stack.name) ? await waitForGitLab(environment!, stack.name) : {};
    rmSync(join(stack.directory, PLAN_FILE), { force: true });
    const status = applyAsking(stack.name, stack.directory, { ...vars, ...state }, name, true);
    if (status !== 0) return status;
  }
  return 0;
}

function applySaved(stack: string, dir: string, vars: NodeJS.ProcessEnv): number {
  process.stdout.write(`\n== ${stack}: applying the saved plan ${shown(join(dir, PLAN_FILE))}\n`);
  const status = steps(dir, vars, INIT, ["apply", "-input=false", "-lock-timeout=5m", PLAN_FILE]);
  // A saved plan applies once; Terraform refuses it afterwards as stale.
  if (status === 0) rmSync(join(dir, PLAN_FILE), { force: true });
  return status;
}

function applyAsking(stack: string, dir: string, vars: NodeJS.ProcessEnv, environment: string, interactive: boolean): number {
  if (!interactive) {
    throw new UsageError(
      `deploy: ${stack} has no saved plan (GitLab could not be reached when ${environment} was planned), and there is no terminal to confirm one on: it was not applied. Run npm run plan -- ${environment} now that GitLab answers, review it, then deploy.`,
    );
  }
  process.stdout.write(`\n== ${stack}: terraform init and apply in ${shown(dir)}\n`);
  return steps(dir, vars, INIT, ["apply", "-lock-timeout=5m"]);
}
