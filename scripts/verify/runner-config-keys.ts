// Checks a gitlab-runner config.toml's key names: gitlab-runner ignores keys it does not know
// when it loads the file, so a misspelled key is a setting silently left at its default (an
// autoscaler without its idle policy, a cache without its bucket). Every key is checked
// against the runner's own list (every toml struct tag of gitlab-runner 19.4), and the
// docker-autoscaler's [runners.autoscaler] tables section by section against the autoscaler
// notes, including the AWS fleeting plugin's plugin_config keys. Both lists live in
// scripts/verify/reference/ with a header naming their source.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const REFERENCE_DIR = join(__dirname, "reference");

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

const lines = (file: string) =>
  readFileSync(join(REFERENCE_DIR, file), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

let lists: { runner: Set<string>; autoscaler: Set<string> } | undefined;
/** The runner's config.toml key names, and the autoscaler notes' "<section> <key>" pairs (also what the tests check the renderers against). */
export function keyLists(): { readonly runner: ReadonlySet<string>; readonly autoscaler: ReadonlySet<string> } {
  lists ??= { runner: new Set(lines("gitlab-runner-config-toml-keys.txt")), autoscaler: new Set(lines("runner-autoscaler-keys.txt")) };
  return lists;
}

/** Every key below `value`, with its dotted path, for the runner's flat list. */
function allKeys(value: unknown, path: string): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => allKeys(v, `${path}[${i}]`));
  if (!isTable(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [[k, path ? `${path}.${k}` : k] as [string, string], ...allKeys(v, path ? `${path}.${k}` : k)]);
}

/** `[runners.autoscaler]` of runner `i`, section by section; plugin_config by plugin. */
function autoscalerProblems(a: Table, at: string): string[] {
  const known = keyLists().autoscaler;
  const problems: string[] = [];
  const check = (section: string, table: unknown, where: string) => {
    if (!isTable(table)) return;
    for (const key of Object.keys(table)) if (!known.has(`${section} ${key}`)) problems.push(`${where}.${key}: unknown key in [runners.${section}]`);
  };
  check("autoscaler", a, at);
  check("autoscaler.connector_config", a.connector_config, `${at}.connector_config`);
  check("autoscaler.scale_throttle", a.scale_throttle, `${at}.scale_throttle`);
  check("autoscaler.state_storage", a.state_storage, `${at}.state_storage`);
  for (const [i, p] of (Array.isArray(a.policy) ? a.policy : []).entries()) check("autoscaler.policy", p, `${at}.policy[${i}]`);
  // plugin_config is the plugin's own: the keys of the AWS plugin are known; another plugin's are not checked.
  if (typeof a.plugin === "string" && /^(aws|fleeting-plugin-aws)(:|$)|\/aws(:|$)/.test(a.plugin))
    check("autoscaler.plugin_config(aws)", a.plugin_config, `${at}.plugin_config`);
  return problems;
}

/** One finding per key gitlab-runner would not read, with its path in the file. */
export function runnerConfigKeyProblems(config: unknown): string[] {
  if (!isTable(config)) return [];
  const runner = keyLists().runner;
  const runners = Array.isArray(config.runners) ? config.runners : [];
  // The autoscaler's tables are checked by section below; the rest against the flat list.
  const outside = { ...config, runners: runners.map((r) => (isTable(r) ? { ...r, autoscaler: undefined } : r)) };
  const problems = allKeys(outside, "")
    .filter(([key]) => !runner.has(key))
    .map(([, path]) => `${path}: unknown gitlab-runner config.toml key`);
  runners.forEach((r, i) => {
    if (isTable(r) && isTable(r.autoscaler)) problems.push(...autoscalerProblems(r.autoscaler, `runners[${i}].autoscaler`));
  });
  return problems;
}

/** gitlab-runner's file: config.toml, or the template the bootstrap fills in. */
export const isRunnerConfig = (label: string): boolean => /(^|\/)config\.toml(\.template)?$/.test(label);
