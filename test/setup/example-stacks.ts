// vitest globalSetup: synthesizes each example environment's stacks once per run, as
// test/helpers.ts's synthEnvironmentStacks does (Testing.synth), into a temporary directory
// that exampleStack() reads. Twenty-odd test files used to synthesize the same examples each, and
// to load cdktf and every provider to do it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory holding <stack>.json for each stack of each example (<env>.json, <env>-gitlab.json). */
    exampleStacksDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  await import("./cdktf-stack-traces");
  const { exampleEnvironments, synthEnvironmentStacks } = await import("../helpers");
  const dir = mkdtempSync(join(tmpdir(), "example-stacks-"));
  for (const env of exampleEnvironments()) {
    for (const [name, stack] of Object.entries(synthEnvironmentStacks(env))) writeFileSync(join(dir, `${name}.json`), JSON.stringify(stack));
  }
  project.provide("exampleStacksDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
