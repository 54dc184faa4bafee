// vitest globalSetup: synthesizes each example environment's stacks once per run, as
// test/helpers.ts's synthEnvironmentStacks does (Testing.synth), into a directory that
// exampleStack() reads. Twenty-odd test files used to synthesize the same examples each, and
// to load cdktf and every provider to do it. A run whose inputs are those of an earlier run
// reads that run's stacks instead (test/support/example-stacks-cache.ts): the synthesis held
// up every run's start by ~2 s, changed or not.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { ExampleStacksCache } from "../support/example-stacks-cache";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory holding <stack>.json for each stack of each example (<env>.json, <env>-gitlab.json). */
    exampleStacksDir: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const cache = new ExampleStacksCache();
  const dir = cache.find() ?? cache.keep(await synthesize(cache.scratch()));
  project.provide("exampleStacksDir", dir);
}

/** Writes every example's stacks into `dir`, a directory the cache made for them. */
async function synthesize(dir: string): Promise<string> {
  await import("./cdktf-stack-traces");
  const { exampleEnvironments, synthEnvironmentStacks } = await import("../helpers");
  for (const env of exampleEnvironments()) {
    for (const [name, stack] of Object.entries(synthEnvironmentStacks(env))) writeFileSync(join(dir, `${name}.json`), JSON.stringify(stack));
  }
  return dir;
}
