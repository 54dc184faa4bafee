// Runner props on the docker platform: the build runner (and the protected deploy runner when
// configured), their tokens as host files, jobs reaching GitLab and the registry through
// Traefik on this host.
import type { DockerRunnerFleetProps } from "../../constructs/runner-fleet/docker";
import type { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import { hostNames } from "../host-names";
import type { DockerEnvironment, HostSecretFiles } from "./environment";

export function runnerFleetProps(env: DockerEnvironment, parts: { readonly network: DockerPrivateNetwork; readonly secrets: HostSecretFiles }): DockerRunnerFleetProps {
  const hosts = hostNames(env);
  const { build, deploy } = env.runners;
  // Clones, API calls and registry logins from jobs go to Traefik on this host.
  const hostsViaDockerHost = [hosts.web, ...(hosts.registry ? [hosts.registry] : [])];
  return {
    network: parts.network.network,
    namePrefix: env.name,
    runnerVersion: env.runners.version,
    gitlabUrl: `https://${hosts.web}`,
    concurrent: env.runners.concurrent,
    build: {
      token: parts.secrets.file(build.token),
      jobImage: build.jobImage,
      dockerAccess: build.dockerAccess,
      privileged: build.privileged,
      ...(build.jobMemory ? { jobMemory: build.jobMemory } : {}),
      dns: build.dns,
      hostsViaDockerHost,
    },
    ...(deploy
      ? {
          deploy: {
            token: parts.secrets.file(deploy.token),
            jobImage: deploy.jobImage ?? env.docker.images.dockerCli,
            buildsDir: `${env.docker.dataRoot}/deploy-builds`,
            hostsViaDockerHost,
          },
        }
      : {}),
    schedulerImage: env.docker.images.dockerCli,
    cleanupSchedule: env.runners.cleanupSchedule,
    cleanupOlderThan: env.runners.cleanupOlderThan,
    cleanupCacheOlderThan: env.runners.cleanupCacheOlderThan,
  };
}
