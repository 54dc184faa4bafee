// GitLab server props on the docker platform: gitlab.rb behind Traefik on the private
// network, its secrets as host files, registry storage mounted beside its data.
import { LOCAL_BACKUP_KEEP_SECONDS } from "../../constructs/backups/docker";
import { CLOUDFLARE_IP_RANGES } from "../../constructs/dns-tls/cloudflare-ip-ranges";
import type { HostSecretFile } from "../../constructs/docker-conventions";
import type { DockerGitLabServerProps } from "../../constructs/gitlab-server/docker";
import type { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import type { DockerRegistry } from "../../constructs/registry/docker";
import { applicationSettings, gitlabSecrets, monitoringWhitelist, omnibusSettings, type GitlabSecretName } from "../omnibus-settings";
import type { DockerEnvironment, HostSecretFiles } from "./environment";

export interface GitLabServerParts {
  readonly network: DockerPrivateNetwork;
  readonly secrets: HostSecretFiles;
  readonly registry: DockerRegistry | undefined;
}

export function gitlabServerProps(env: DockerEnvironment, parts: GitLabServerParts): DockerGitLabServerProps {
  const { network } = parts;
  const secretFiles = new Map<GitlabSecretName, HostSecretFile>(gitlabSecrets(env.gitlab).map((s) => [s.name, parts.secrets.file(s.ref)]));
  return {
    gitlabVersion: env.gitlab.version,
    dataRoot: env.docker.dataRoot,
    network: network.network,
    shmSizeMb: env.docker.shmSizeMb,
    secretFiles: [...secretFiles.values()],
    applicationSettings: applicationSettings(env),
    extraMounts: parts.registry ? [parts.registry.storageMount] : [],
    omnibus: omnibusSettings(env, {
      // Traefik, at its fixed address, terminates TLS in front of GitLab's nginx; Traefik, and
      // Cloudflare in front of it when proxied, name the client in turn. Not the whole
      // network: build jobs arrive through its gateway (Docker's proxy of published ports).
      tls: { mode: "proxy", trustedProxies: [`${network.traefikAddress}/32`, ...(env.dns.proxied ? CLOUDFLARE_IP_RANGES : [])] },
      // Prometheus alone, at its fixed address, reads the metrics and health endpoints.
      monitoring: { whitelist: monitoringWhitelist(`${network.prometheusAddress}/32`), exportersOnAllInterfaces: true },
      secretSource: (name) => {
        const file = secretFiles.get(name);
        if (!file) throw new Error(`gitlab.rb reads the secret ${name}, which config does not reference`);
        return { file: file.containerPath };
      },
      // Archives go to the NFS share; one day locally is enough to retry a copy.
      backupKeepSeconds: LOCAL_BACKUP_KEEP_SECONDS,
    }),
  };
}
