// vitest globalSetup: synthesizes each example environment once per run, as
// test/helpers.ts's synthEnvironment does (Testing.synth), into a temporary directory that
// exampleStack() reads. Twenty-odd test files used to synthesize the same examples each, and
// to load cdktf and every provider to do it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory holding <example>.json, each example's synthesized stack. */
    exampleStacksDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const { exampleEnvironments, synthEnvironment } = await import("../helpers");
  const dir = mkdtempSync(join(tmpdir(), "example-stacks-"));
  for (const env of exampleEnvironments()) writeFileSync(join(dir, `${env.name}.json`), JSON.stringify(synthEnvironment(env)));
  project.provide("exampleStacksDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
