// vitest globalSetup: one warm AWS CLI server per run (test/support/warm-aws-cli.ts), its
// client provided as `awsCli` for test/support/aws-cli.ts's AWS_CLI. Without /usr/bin/aws
// there is nothing to warm (aws-cli.ts skips or, in CI, fails those tests); a server that
// cannot start is a warning and the cold /usr/bin/aws off CI, a failure with CI=true.
import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { REAL_AWS_CLI, startWarmAwsCli } from "../support/warm-aws-cli";

declare module "vitest" {
  export interface ProvidedContext {
    /** The `aws` host script tests run: the warm AWS CLI's client, or /usr/bin/aws itself. */
    awsCli: string;
    /** The warm AWS CLI's Python client (the one where nothing compiles C), if the server runs. */
    awsCliPython: string | undefined;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  project.provide("awsCli", REAL_AWS_CLI);
  project.provide("awsCliPython", undefined);
  if (!existsSync(REAL_AWS_CLI)) return undefined;
  try {
    const warm = await startWarmAwsCli();
    project.provide("awsCli", warm.cli);
    project.provide("awsCliPython", warm.pythonCli);
    return () => warm.stop();
  } catch (e) {
    if (process.env.CI === "true") throw e;
    console.warn(`the warm AWS CLI did not start (${(e as Error).message}): host script tests run the cold ${REAL_AWS_CLI}`);
    return undefined;
  }
}
