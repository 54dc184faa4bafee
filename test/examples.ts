// Test helpers that need no synthesis, so a test file importing only these loads neither cdktf
// nor the providers (seconds per file): the example environments, config parsing, the
// examples' stacks as synthesized once per run (test/setup/example-stacks.ts), and reading a
// synthesized stack.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import { parse, stringify } from "yaml";
import { loadEnvironments, parseEnvironment, type Environment } from "../config/load";
import { decodeUserData } from "../scripts/verify/extract";

export const REPO_ROOT = join(__dirname, "..");
export const CONFIG_DIR = join(REPO_ROOT, "config");

/** The examples as loaded the first time in this process: the files do not change during a run. */
let loadedExamples: Environment[] | undefined;

/** The example environments, each call its own copy (tests derive variants by changing them). */
export function exampleEnvironments(): Environment[] {
  loadedExamples ??= loadEnvironments(CONFIG_DIR);
  return structuredClone(loadedExamples);
}

/** The stacks of the named environments, in the order synth lists them: each environment's own, then its `<env>-gitlab`. */
export function stackNamesOf(environments: readonly string[]): string[] {
  return environments.flatMap((name) => [name, `${name}-gitlab`]);
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

/**
 * An example environment's stack exactly as synthEnvironment(exampleEnvironment(name)) returns
 * it (test/setup/example-stacks.ts synthesizes each once per run with that function), a fresh
 * copy on each call. `<env>-gitlab` names the environment's second stack.
 */
export function exampleStack(name: string): SynthesizedStack {
  const dir = inject("exampleStacksDir");
  const file = dir ? join(dir, `${name}.json`) : undefined;
  if (!file || !existsSync(file))
    throw new Error(`no synthesized example '${name}': run the tests through this project's vitest config (its globalSetup synthesizes the examples)`);
  return JSON.parse(readFileSync(file, "utf8"));
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
