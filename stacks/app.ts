// Builds one stack per environment, by platform, and synthesizes them so that a failure
// leaves the previous output untouched and nothing that was there before is lost.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { App, type TerraformStack } from "cdktf";
import type { Environment } from "../config/load";
import { AwsEnvironmentStack, type AwsEnvironment } from "./aws-stack";
import { DockerEnvironmentStack, type DockerEnvironment } from "./docker-stack";
import { GitLabContentStack, gitlabStackName } from "./gitlab-content-stack";
import { KubernetesEnvironmentStack, type KubernetesEnvironment } from "./kubernetes-stack";
import { keepEarlierStacks, type KeptStack } from "./manifest";
import { asValidationError } from "./validation-error";

/**
 * The stacks an environment is deployed as, in the order they are applied: the platform
 * itself, then what lives inside its GitLab (`<env>-gitlab`).
 */
export function environmentStackNames(env: Pick<Environment, "name">): string[] {
  return [env.name, gitlabStackName(env)];
}

/** Adds both stacks of an environment; the second is deployed after the first (cdktf deploy orders them). */
export function addEnvironmentStack(app: App, env: Environment): void {
  const platform = addPlatformStack(app, env);
  new GitLabContentStack(app, env).addDependency(platform);
}

function addPlatformStack(app: App, env: Environment): TerraformStack {
  switch (env.platform) {
    case "aws":
      return new AwsEnvironmentStack(app, env as AwsEnvironment);
    case "docker":
      return new DockerEnvironmentStack(app, env as DockerEnvironment);
    case "kubernetes":
      return new KubernetesEnvironmentStack(app, env as KubernetesEnvironment);
  }
}

/** One stack written by a synth: its name, its directory and how many resources it declares. */
export interface SynthesizedStack {
  readonly name: string;
  /** The environment it belongs to. */
  readonly environment: string;
  readonly directory: string;
  readonly resources: number;
}

export interface SynthResult {
  readonly synthesized: readonly SynthesizedStack[];
  /** Stacks of earlier runs left in the output directory as they were. */
  readonly kept: readonly KeptStack[];
}

export interface SynthOptions {
  /** The cdktf CLI runs the app: a stack directory it would delete is an error. */
  readonly underCdktfCli?: boolean;
}

/**
 * Synthesizes into a scratch directory beside `outdir` and moves the generated files into
 * place only when every stack synthesized: an error never leaves half-written output.
 * Nothing else in `outdir` is touched: other environments' stack directories stay, with
 * what Terraform keeps there (.terraform/, lock file, plans, errored.tfstate), and the
 * manifest keeps listing them, so the cdktf CLI (which deletes every stack directory the
 * manifest does not name) leaves them too.
 */
export function synthEnvironments(environments: readonly Environment[], outdir: string, options: SynthOptions = {}): SynthResult {
  mkdirSync(dirname(outdir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.tmp-`));
  try {
    const app = new App({ outdir: scratch });
    for (const env of environments) addEnvironmentStack(app, env);
    for (const env of environments) {
      const stacks = environmentStackNames(env).map((name) => app.node.findChild(name) as TerraformStack);
      for (const stack of stacks) {
        resolveOnce(stack);
        skipCrossStackPreparation(stack);
      }
    }
    try {
      app.synth();
    } catch (error) {
      throw asValidationError(error);
    }
    const synthesized = environments.flatMap((env) => environmentStackNames(env).map((stack) => describeStack(scratch, outdir, stack, env.name)));
    const kept = keepEarlierStacks(scratch, outdir, options.underCdktfCli);
    moveInto(scratch, outdir);
    return { synthesized, kept };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function describeStack(scratch: string, outdir: string, name: string, environment: string): SynthesizedStack {
  const json = JSON.parse(readFileSync(join(scratch, "stacks", name, "cdk.tf.json"), "utf8")) as { resource?: Record<string, Record<string, unknown>> };
  const resources = Object.values(json.resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
  return { name, environment, directory: join(outdir, "stacks", name), resources };
}

/**
 * The policy aspect resolves each stack to check it, then synth resolves it again to write
 * it: a tenth of the run. Nothing changes a stack between the two (aspects have run; what
 * follows is validation, asset copying and writing), so the second call returns the first
 * result, frozen so that a check that mutated it would fail loudly instead of changing the
 * output.
 */
function resolveOnce(stack: TerraformStack): void {
  const resolve = stack.toTerraform.bind(stack);
  let resolved: ReturnType<TerraformStack["toTerraform"]> | undefined;
  stack.toTerraform = () => (resolved ??= deepFreeze(resolve()));
}

/**
 * Before writing, cdktf resolves every stack twice: a "preparing" pass whose one job is to
 * turn references between stacks into outputs and remote state (cdktf's Reference.resolve,
 * `context.preparing`), then the real one. No stack references another: environments never
 * do, and an environment's second stack looks up what the first made by name (data sources),
 * so that each applies on its own state. The first pass would find nothing: skipping it saves
 * a sixth of synth. Its other step, adding the default backend when a stack declares none,
 * stays. (test/stacks/gitlab-content-stack.test.ts checks that every reference in the second
 * stack is to something declared in it.)
 */
function skipCrossStackPreparation(stack: TerraformStack): void {
  const internals = stack as unknown as { ensureBackendExists?: () => void };
  if (typeof internals.ensureBackendExists !== "function") return; // another cdktf: keep its preparation
  stack.prepareStack = () => internals.ensureBackendExists!.call(stack);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function moveInto(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  chmodSync(to, 0o755);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    if (entry.isDirectory()) moveInto(source, join(to, entry.name));
    else renameSync(source, join(to, entry.name));
  }
}
