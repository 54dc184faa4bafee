// The S3 object keys an environment's two stacks keep their state under: written once, read
// by the backend (stacks/backend.ts) and by the check that no two environments share one.

/** The key of the stack `stack` (`<env>` or `<env>-gitlab`) of environment `environment`, given config's state.key. */
export function s3StateKey(environment: string, stack: string, configuredKey: string | undefined): string {
  if (!configuredKey) return `gitlab-platform/${stack}.tfstate`;
  // A key named in config is the first stack's; the second's gets its suffix before .tfstate.
  return configuredKey.replace(/\.tfstate$/, `${stack.slice(environment.length)}.tfstate`);
}
