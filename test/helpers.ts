// Shared test helpers: example environments and synthesized stacks as plain JSON. What needs
// no synthesis (config, the examples' stacks as synthesized once per run, reading a stack)
// lives in test/examples.ts, which loads neither cdktf nor the providers; it is re-exported here.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import type { Environment } from "../config/load";
import { addEnvironmentStack, environmentStackNames, synthEnvironments } from "../stacks/app";
import { compactScript, type HostScript } from "../userdata/host-scripts";
import type { SynthesizedStack } from "./examples";

export * from "./examples";

/** One environment's stack, synthesized as Testing.synth does (aspects run, no backend default). */
export function synthEnvironment(env: Environment): SynthesizedStack {
  return synthEnvironmentStacks(env)[env.name]!;
}

/** Each of an environment's stacks (`<env>`, `<env>-gitlab`) by name, synthesized as synthEnvironment does. */
export function synthEnvironmentStacks(env: Environment): Record<string, SynthesizedStack> {
  const app = Testing.app();
  addEnvironmentStack(app, env);
  return Object.fromEntries(
    environmentStackNames(env).map((name) => [name, JSON.parse(Testing.synth(app.node.findChild(name) as Parameters<typeof Testing.synth>[0]))]),
  );
}

/**
 * The stacks as `cdktf synth` writes them: a full app synth (aspects, validations and the
 * default backend cdktf adds when a stack declares none), unlike Testing.synth.
 */
export function synthToDisk(envs: readonly Environment[]): Record<string, SynthesizedStack> {
  const dir = mkdtempSync(join(tmpdir(), "synth-"));
  try {
    synthEnvironments(envs, join(dir, "cdktf.out"));
    return Object.fromEntries(envs.map((e) => [e.name, JSON.parse(readFileSync(join(dir, "cdktf.out", "stacks", e.name, "cdk.tf.json"), "utf8"))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every stack of the environments (`<env>` and `<env>-gitlab`), by stack name, as synthToDisk writes them. */
export function synthStacksToDisk(envs: readonly Environment[]): Record<string, SynthesizedStack> {
  const dir = mkdtempSync(join(tmpdir(), "synth-"));
  try {
    synthEnvironments(envs, join(dir, "cdktf.out"));
    const names = envs.flatMap((e) => environmentStackNames(e));
    return Object.fromEntries(names.map((name) => [name, JSON.parse(readFileSync(join(dir, "cdktf.out", "stacks", name, "cdk.tf.json"), "utf8"))]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A host script exactly as EC2 user data ships it (comments stripped by compactScript), as a
 * file to run: runtime tests exercise what the hosts execute, not only the commented source.
 */
export function shippedScript(name: HostScript): string {
  const path = join(mkdtempSync(join(tmpdir(), "shipped-")), name);
  writeFileSync(path, compactScript(name));
  chmodSync(path, 0o755);
  return path;
}
