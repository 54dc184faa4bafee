// Builds one stack per environment, by platform, and synthesizes them so that a failure
// leaves the previous output untouched.
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { App } from "cdktf";
import type { Environment } from "../config/load";
import { AwsEnvironmentStack, type AwsEnvironment } from "./aws-stack";
import { DockerEnvironmentStack, type DockerEnvironment } from "./docker-stack";

export function addEnvironmentStack(app: App, env: Environment): void {
  switch (env.platform) {
    case "aws":
      new AwsEnvironmentStack(app, env as AwsEnvironment);
      return;
    case "docker":
      new DockerEnvironmentStack(app, env as DockerEnvironment);
      return;
  }
}

/**
 * Synthesizes into a scratch directory beside `outdir` and swaps it in only when every
 * stack synthesized: an error never leaves a half-written or stale-mixed cdktf.out.
 */
export function synthEnvironments(environments: readonly Environment[], outdir: string): void {
  const scratch = mkdtempSync(join(dirname(outdir), `.${basename(outdir)}.tmp-`));
  try {
    const app = new App({ outdir: scratch, skipValidation: false });
    for (const env of environments) addEnvironmentStack(app, env);
    app.synth();
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  if (existsSync(outdir)) rmSync(outdir, { recursive: true, force: true });
  renameSync(scratch, outdir);
}
