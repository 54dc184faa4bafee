// `npm run plan -- <env>` and `npm run deploy -- <env>`: Terraform in each of the
// environment's stack directories (cdktf.out/stacks/<stack>), as the pipeline runs it.
// Terraform is the user's (≥ 1.10, on PATH); its first `init` downloads the providers.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadEnvironments } from "../config/load";
import { planCounts } from "../scripts/ci/plan-summary";
import { environmentStackNames } from "../stacks/app";
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
function steps(cwd: string, ...argvs: (readonly string[])[]): number {
  for (const args of argvs) {
    const status = terraform(args, cwd).status ?? 1;
    if (status !== 0) return status;
  }
  return 0;
}

function oneEnvironment(command: string, names: readonly string[]): string {
  if (names.length !== 1) throw new UsageError(`usage: npm run ${command} -- <environment>   (one environment; ${names.length} given)`);
  return names[0]!;
}

const INIT = ["init", "-input=false"] as const;

export function planCommand(names: readonly string[]): number {
  const name = oneEnvironment("plan", names);
  const result = synthesize([name]);
  for (const stack of result.synthesized) {
    const dir = stack.directory;
    process.stdout.write(`\n== ${stack.name}: terraform init and plan in ${shown(dir)}\n`);
    const status = steps(dir, INIT, ["plan", "-input=false", "-lock-timeout=5m", `-out=${PLAN_FILE}`]);
    if (status !== 0) return status;
    const shown_ = terraform(["show", "-json", PLAN_FILE], dir, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    if (shown_.status !== 0) return shown_.status ?? 1;
    const counts = planCounts(JSON.parse(String(shown_.stdout)));
    process.stdout.write(
      `${stack.name}: ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete; saved as ${shown(join(dir, PLAN_FILE))}: apply it with npm run deploy -- ${name}\n`,
    );
  }
  return 0;
}

/** The saved plan of a stack, if there is one made after the stack was last synthesized. */
function savedPlan(dir: string): { file: string; stale: boolean } | undefined {
  const file = join(dir, PLAN_FILE);
  if (!existsSync(file)) return undefined;
  const synthesized = statSync(join(dir, "cdk.tf.json"), { throwIfNoEntry: false });
  return { file, stale: !synthesized || synthesized.mtimeMs > statSync(file).mtimeMs };
}

export function deployCommand(names: readonly string[], interactive = Boolean(process.stdin.isTTY)): number {
  const name = oneEnvironment("deploy", names);
  // Reads the config only to know the environment and its stacks: a saved plan is applied as
  // it was reviewed, without synthesizing again.
  const [environment] = loadEnvironments(configDir(), [name], printWarning);
  const stacks = environmentStackNames(environment!);
  const plans = stacks.map((stack) => ({ stack, dir: stackDir(stack), plan: savedPlan(stackDir(stack)) }));
  if (plans.every((p) => p.plan && !p.plan.stale)) {
    for (const { stack, dir } of plans) {
      process.stdout.write(`\n== ${stack}: applying the saved plan ${shown(join(dir, PLAN_FILE))}\n`);
      const status = steps(dir, INIT, ["apply", "-input=false", "-lock-timeout=5m", PLAN_FILE]);
      if (status !== 0) return status;
      // A saved plan applies once; Terraform refuses it afterwards as stale.
      rmSync(join(dir, PLAN_FILE), { force: true });
    }
    return 0;
  }
  const why = plans.some((p) => p.plan?.stale)
    ? `the saved plan of ${name} is older than its last synth`
    : `${name} has no saved plan (npm run plan -- ${name} makes one)`;
  if (!interactive) {
    throw new UsageError(`deploy: ${why}, and there is no terminal to confirm a new plan on: nothing was applied. Run npm run plan -- ${name}, review it, then deploy.`);
  }
  process.stdout.write(`deploy: ${why}: planning now; Terraform shows the plan and asks before it changes anything.\n`);
  const result = synthesize([name]);
  for (const stack of result.synthesized) {
    process.stdout.write(`\n== ${stack.name}: terraform init and apply in ${shown(stack.directory)}\n`);
    rmSync(join(stack.directory, PLAN_FILE), { force: true });
    const status = steps(stack.directory, INIT, ["apply", "-lock-timeout=5m"]);
    if (status !== 0) return status;
  }
  return 0;
}
