// config.toml of the docker platform's two runners, from `runners` as config parsed it. The
// build runner's job container is the one every runner starts (jobContainer()) plus what only a
// shared Docker host needs: its published ports for GitLab's names (extra_hosts) and public DNS.
// The deploy runner's jobs get the host's Docker, their own network and a checkout at the host's
// path. A new build job setting is added to the schema, to jobContainer() or buildJobContainer()
// here, and to runner-config.ts when config.toml gains a key.
import type { DockerRunnersConfig } from "../config/schema/docker";
import { type DockerExecutorSettings, renderRunnerConfig, type RunnerSettings } from "./runner-config";
import { DOCKER_SOCKET, jobContainer } from "./runner-job-container";

/** The runners' Prometheus metrics port, in their containers (health check and scrape target). */
export const RUNNER_METRICS_PORT = 9252;
/** The deploy jobs' own network: not the build jobs' filtered bridge, as deploys reach the LAN. */
export const DEPLOY_JOBS_NETWORK = "gitlab-deploy-jobs";
/** The environment variable the runner container's entry point fills the token placeholder from. */
const TOKEN_ENV = "RUNNER_TOKEN";

/** The runners' settings as parsed, and what the rest of the environment decides around them. */
export interface DockerRunnerConfigProps {
  /** `runners` as config parsed it (version, concurrent, build, deploy), whole. */
  readonly settings: DockerRunnersConfig;
  /** Prefix of the runner names shown in GitLab, e.g. the environment name. */
  readonly namePrefix: string;
  /** GitLab's external URL the runners poll. */
  readonly gitlabUrl: string;
  /**
   * Host names job containers reach through the Docker host's published ports (Traefik), e.g.
   * GitLab's and the registry's: jobs run on Docker's default bridge, where public DNS would
   * send them out to the router and back (NAT loopback, which many routers lack).
   */
  readonly hostsViaDockerHost: readonly string[];
  /** Image of deploy jobs when `settings.deploy.jobImage` is unset: the Docker CLI with Compose (docker.images.dockerCli). */
  readonly defaultDeployJobImage: string;
  /**
   * Host directory deploy jobs check out into, mounted into them at the same path: a
   * `docker compose` bind mount of ./conf then names a path that exists on the host.
   */
  readonly deployBuildsDir: string;
}

/** /etc/hosts entries sending the names to the daemon's own address on the job's bridge (host-gateway, Docker ≥ 20.10). */
function viaDockerHost(hosts: readonly string[]): Pick<DockerExecutorSettings, "extraHosts"> {
  return hosts.length ? { extraHosts: hosts.map((h) => `${h}:host-gateway`) } : {};
}

/** [runners.docker] of build jobs: the shared job container; the socket only with dockerAccess 'socket'. */
export function buildJobContainer(p: DockerRunnerConfigProps): DockerExecutorSettings {
  const build = p.settings.build;
  return {
    ...jobContainer(build),
    ...viaDockerHost(p.hostsViaDockerHost),
    ...(build.dns.length ? { dns: build.dns } : {}),
  };
}

/** [runners.docker] of deploy jobs: the host's Docker (protected refs only: the boundary between the two runners), unprivileged. */
export function deployJobContainer(p: DockerRunnerConfigProps, deploy: NonNullable<DockerRunnersConfig["deploy"]>): DockerExecutorSettings {
  return {
    image: deploy.jobImage ?? p.defaultDeployJobImage,
    privileged: false,
    pullPolicy: ["if-not-present"],
    // The checkout at the same path as on the host.
    volumes: [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`, `${p.deployBuildsDir}:${p.deployBuildsDir}`, "/cache"],
    networkMode: DEPLOY_JOBS_NETWORK,
    ...viaDockerHost(p.hostsViaDockerHost),
  };
}

function render(concurrent: number, runner: RunnerSettings): string {
  return renderRunnerConfig({ concurrent, metricsListenAddress: `:${RUNNER_METRICS_PORT}`, runners: [runner] });
}

/** The build runner's config.toml: `runners.concurrent` jobs at once, each in a fresh container. */
export function buildRunnerConfigToml(p: DockerRunnerConfigProps): string {
  return render(p.settings.concurrent, {
    name: `${p.namePrefix}-docker-{hostname}`,
    url: p.gitlabUrl,
    token: { envVar: TOKEN_ENV },
    executor: "docker",
    docker: buildJobContainer(p),
  });
}

/** The deploy runner's config.toml; only when `runners.deploy` is set. */
export function deployRunnerConfigToml(p: DockerRunnerConfigProps): string {
  const deploy = p.settings.deploy;
  if (!deploy) throw new Error("runners.deploy is not set: there is no deploy runner to configure");
  // Deploys run one at a time.
  return render(1, {
    name: `${p.namePrefix}-deploy-{hostname}`,
    url: p.gitlabUrl,
    token: { envVar: TOKEN_ENV },
    executor: "docker",
    buildsDir: p.deployBuildsDir,
    docker: deployJobContainer(p, deploy),
  });
}
