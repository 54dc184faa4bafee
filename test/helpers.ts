// Shared test helpers: example environments and synthesized stacks as plain JSON. What needs
// no synthesis (config, the examples' stacks as synthesized once per run, reading a stack)
// lives in test/examples.ts, which loads neither cdktf nor the providers; it is re-exported here.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import type { Environment } from "../config/load";
import { addEnvironmentStack, synthEnvironments } from "../stacks/app";
import { compactScript, type HostScript } from "../userdata/host-scripts";
import type { SynthesizedStack } from "./examples";

export * from "./examples";

/** One environment's stack, synthesized as Testing.synth does (aspects run, no backend default). */
export function synthEnvironment(env: Environment): SynthesizedStack {
  const app = Testing.app();
  addEnvironmentStack(app, env);
  const stack = app.node.findChild(env.name) as Parameters<typeof Testing.synth>[0];
  return JSON.parse(Testing.synth(stack));
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
