// GitLab-managed state (state.backend: gitlab) takes its address from TF_HTTP_* variables,
// which an operator exports once for the environment (docs/operations.md, 1.1). Each stack
// has its own state: for the second stack (<env>-gitlab) the addresses are derived, so that
// it never plans against the first stack's state (which would delete everything in it).
import { UsageError } from "./report";

const ADDRESS_VARIABLES = ["TF_HTTP_ADDRESS", "TF_HTTP_LOCK_ADDRESS", "TF_HTTP_UNLOCK_ADDRESS"] as const;

/** The TF_HTTP_* addresses for `stack` of `environment`, from the environment's; nothing to change for the first stack or when unset. */
export function stackStateVariables(environment: string, stack: string, vars: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (stack === environment || !vars.TF_HTTP_ADDRESS) return {};
  const derived: NodeJS.ProcessEnv = {};
  for (const name of ADDRESS_VARIABLES) {
    const value = vars[name];
    if (!value) continue;
    const match = value.match(new RegExp(`^(.*/terraform/state/)${environment}(/lock)?$`));
    if (!match) {
      throw new UsageError(
        `${name}=${value} does not end in /terraform/state/${environment}${name === "TF_HTTP_ADDRESS" ? "" : "/lock"}: ${stack} keeps its own state beside ${environment}'s, at the same address with ${stack} for ${environment}; set ${name} for ${environment} as docs/operations.md (1.1) shows`,
      );
    }
    derived[name] = `${match[1]}${stack}${match[2] ?? ""}`;
  }
  return derived;
}
