// Builds one stack per environment, by platform, and synthesizes them so that a failure
// leaves the previous output untouched.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { App } from "cdktf";
import type { Environment } from "../config/load";
import { AwsEnvironmentStack, type AwsEnvironment } from "./aws-stack";
import { DockerEnvironmentStack, type DockerEnvironment } from "./docker-stack";
import { KubernetesEnvironmentStack, type KubernetesEnvironment } from "./kubernetes-stack";

export function addEnvironmentStack(app: App, env: Environment): void {
  switch (env.platform) {
    case "aws":
      new AwsEnvironmentStack(app, env as AwsEnvironment);
      return;
    case "docker":
      new DockerEnvironmentStack(app, env as DockerEnvironment);
      return;
    case "kubernetes":
      new KubernetesEnvironmentStack(app, env as KubernetesEnvironment);
      return;
  }
}

/** Synth refused the stacks: policy violations or other construct validations, one per line. */
export class SynthValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "SynthValidationError";
  }
}

const CDKTF_VALIDATION = "Validation failed with the following errors:";

/** cdktf reports validations as one error whose lines are `  [construct path] message`. */
export function asValidationError(error: unknown): unknown {
  if (!(error instanceof Error) || !error.message.startsWith(CDKTF_VALIDATION)) return error;
  const problems = error.message
    .slice(CDKTF_VALIDATION.length)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("["));
  return new SynthValidationError(problems);
}

/**
 * Synthesizes into a scratch directory beside `outdir` and moves the generated files into
 * place only when every stack synthesized: an error never leaves half-written output.
 * Files the app does not generate (a stack's .terraform/, lock file, plans) are kept.
 */
export function synthEnvironments(environments: readonly Environment[], outdir: string): void {
  mkdirSync(dirname(outdir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.tmp-`));
  try {
    const app = new App({ outdir: scratch });
    for (const env of environments) addEnvironmentStack(app, env);
    try {
      app.synth();
    } catch (error) {
      throw asValidationError(error);
    }
    moveInto(scratch, outdir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
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
