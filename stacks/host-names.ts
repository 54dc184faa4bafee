// The host names an environment answers on, derived once from its config.
import type { Environment } from "../config/load";
import { defaultSshHostname } from "../config/schema/gitlab";

export interface HostNames {
  /** Web UI and API, e.g. gitlab.example.com. */
  readonly web: string;
  /** Git over SSH; always a DNS-only record, e.g. ssh-gitlab.example.com. */
  readonly ssh: string;
  /** Container registry, e.g. registry.example.com, when the registry is enabled. */
  readonly registry?: string;
}

export function hostNames(env: Environment): HostNames {
  const fqdn = (label: string) => `${label}.${env.domain}`;
  return {
    web: fqdn(env.gitlab.hostname),
    ssh: fqdn(env.gitlab.sshHostname ?? defaultSshHostname(env.gitlab.hostname)),
    ...(env.registry.enabled ? { registry: fqdn(env.registry.hostname) } : {}),
  };
}
