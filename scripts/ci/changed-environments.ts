// Which environments a change needs a plan for. An environment's own YAML affects only it;
// shared code (stacks, constructs, renderers, policies, schema, dependencies, the plan and
// apply scripts themselves) affects all; docs and tests affect none. Anything unknown counts
// as shared here (better a plan too many) and is listed, because .gitlab-ci.yml's
// `rules: changes:` (the same paths; a test keeps them equal) cannot see it: the pipeline's
// `environments` job fails on it until the path is classified in one of the lists below.

/** Paths whose change can alter every environment's Terraform. */
export const SHARED_PATHS = [
  "main.ts",
  "cli/**/*",
  "cdktf.json",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "config/*.ts",
  "config/schema/**/*",
  "stacks/**/*",
  "constructs/**/*",
  "userdata/**/*",
  "policies/**/*",
  "scripts/ci/**/*",
  ".gitlab-ci.yml",
] as const;

/** Paths that never change what gets deployed. */
export const IRRELEVANT_PATHS = [
  "*.md",
  "LICENSE",
  "docs/**/*",
  "cost/**/*",
  "test/**/*",
  "scripts/**/*",
  ".ci/**/*",
  ".gitignore",
  ".git-blame-ignore-revs",
  ".nvmrc",
  "vitest.config.ts",
  "biome.json",
  "config/environment.schema.json",
] as const;

/** The environment file of `env`, as a path pattern. */
export const environmentFile = (env: string) => `config/${env}.yaml`;

/** A glob as GitLab's `rules: changes:` reads it: `**` spans directories, `*` does not. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  // A placeholder no path contains keeps '**/*' apart from the single '*' replaced next.
  const ANY_DEPTH = "\u0000";
  const pattern = escaped
    .replace(/\*\*\/\*/g, ANY_DEPTH)
    .replace(/\*/g, "[^/]*")
    .replaceAll(ANY_DEPTH, ".*");
  return new RegExp(`^${pattern}$`);
}

const matchesAny = (path: string, globs: readonly string[]) => globs.some((g) => globToRegExp(g).test(path));

export interface ChangedEnvironments {
  /** Environments to plan, in name order. */
  readonly plan: readonly string[];
  /** Environment files deleted by the change: their infrastructure needs a deliberate destroy. */
  readonly removed: readonly string[];
  /** Paths in neither list: planned as shared, but invisible to the pipeline's rules. */
  readonly unknown: readonly string[];
}

export function changedEnvironments(changedPaths: readonly string[], environments: readonly string[]): ChangedEnvironments {
  const plan = new Set<string>();
  const removed = new Set<string>();
  const unknown = new Set<string>();
  for (const path of changedPaths) {
    const own = /^config\/([^/]+)\.yaml$/.exec(path)?.[1];
    if (own !== undefined) {
      if (environments.includes(own)) plan.add(own);
      else removed.add(own);
      continue;
    }
    // Shared is checked first: scripts/ci/ is shared although scripts/ is not.
    const shared = matchesAny(path, SHARED_PATHS);
    if (!shared && matchesAny(path, IRRELEVANT_PATHS)) continue;
    if (!shared) unknown.add(path);
    for (const env of environments) plan.add(env);
  }
  return { plan: [...plan].sort(), removed: [...removed].sort(), unknown: [...unknown].sort() };
}
