// Shared test helpers: example environments and synthesized stacks as plain JSON.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { parse, stringify } from "yaml";
import { loadEnvironments, parseEnvironment, type Environment } from "../config/load";
import { decodeUserData } from "../scripts/verify/extract";
import { addEnvironmentStack, synthEnvironments } from "../stacks/app";
import { compactScript, type HostScript } from "../userdata/host-scripts";

export const REPO_ROOT = join(__dirname, "..");
export const CONFIG_DIR = join(REPO_ROOT, "config");

export function exampleEnvironments(): Environment[] {
  return loadEnvironments(CONFIG_DIR);
}

export function exampleEnvironment(name: string): Environment {
  const env = exampleEnvironments().find((e) => e.name === name);
  if (!env) throw new Error(`no example environment ${name}`);
  return env;
}

/** The example's YAML as a plain object, to derive variants from. */
export function exampleYaml(name: string): Record<string, any> {
  return parse(readFileSync(join(CONFIG_DIR, `${name}.yaml`), "utf8"));
}

/** Parses a config object (or raw text) as if it were config/<name>.yaml. */
export function parseConfig(config: unknown, name = "test") {
  const text = typeof config === "string" ? config : stringify(config);
  return parseEnvironment(`config/${name}.yaml`, new TextEncoder().encode(text));
}

/** The error lines for a config that must be invalid. */
export function problemsOf(config: unknown, name = "test"): string[] {
  const result = parseConfig(config, name);
  if (result.environment) throw new Error("expected the config to be invalid");
  return result.problems.map((p) => `${p.file}: ${p.path || "(file)"}: ${p.message}`);
}

export function validEnvironment(config: unknown, name = "test"): Environment {
  const result = parseConfig(config, name);
  if (!result.environment) throw new Error(`expected a valid config:\n${result.problems.map((p) => p.message).join("\n")}`);
  return result.environment;
}

export interface SynthesizedStack {
  resource: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
  output: Record<string, any>;
  variable?: Record<string, any>;
  provider: Record<string, any>;
  terraform: Record<string, any>;
}

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

/** All resources of one type, as a list. */
export function resources(stack: SynthesizedStack, type: string): any[] {
  return Object.values(stack.resource[type] ?? {});
}

export function onlyResource(stack: SynthesizedStack, type: string): any {
  const all = resources(stack, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

export function deepClone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v));
}

/** The cloud-init document inside an aws_instance's or launch template's `${base64gzip("…")}`, as `npm run verify` reads it. */
export function userDataText(resource: { user_data?: string; user_data_base64?: string }): string {
  const raw = resource.user_data_base64 ?? resource.user_data;
  if (raw === undefined) throw new Error("resource has no user data");
  const decoded = decodeUserData(raw, true);
  if (!("text" in decoded)) throw new Error(`user data not readable offline: ${decoded.unknown}`);
  return decoded.text;
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
