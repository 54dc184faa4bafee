// Two runners as a security boundary, on one Docker host:
// - build ('docker' tag): docker executor, every job in a fresh container that by default
//   cannot reach any Docker daemon;
// - deploy ('deploy' tag): registered in GitLab as protected, so only protected refs (main
//   after merge) run there; its jobs get the host's Docker. The hand-built homelab ran it
//   as a shell executor on the host; here the runner is itself a container, so its jobs run in job
//   containers of a stock, pinned image (the Docker CLI with Compose by default; what else a
//   job needs it installs itself, e.g. `apk add ansible`). Nothing is built on the host.
// Plus the periodic Docker cleanup that keeps the disk from filling up with what the runners
// leave behind, and only that: the host is shared with other services.
import { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { renderCrontab } from "../../userdata/crontab";
import { hostScript } from "../../userdata/host-scripts";
import { renderRunnerConfig, type RunnerSettings } from "../../userdata/runner-config";
import { KEEP_LABEL, PlatformContainer, SCHEDULER_HEALTHCHECK, type HostSecretFile } from "../docker-conventions";

const DOCKER_SOCKET = "/var/run/docker.sock";
const ENTRYPOINT = "/usr/local/bin/runner-entrypoint";
/** The runner image's own command, kept as the arguments of our entry point. */
const RUNNER_COMMAND = ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"];
export const RUNNER_METRICS_PORT = 9252;
/** Seconds a runner gets to finish its running jobs when stopped or replaced. */
const RUNNER_STOP_GRACE_SECONDS = 300;
/**
 * The deploy runner's container name. The pipeline's apply jobs are its jobs, so an apply that
 * replaces it stops the runner that runs it: scripts/ci/apply-guard.ts refuses such plans in CI.
 */
export const DEPLOY_RUNNER_CONTAINER_NAME = "gitlab-runner-deploy";
/** The deploy jobs' own network: not the build jobs' filtered bridge, as deploys reach the LAN. */
export const DEPLOY_JOBS_NETWORK = "gitlab-deploy-jobs";

export interface DockerBuildRunnerProps {
  /** The host file holding the runner authentication token. */
  readonly token: HostSecretFile;
  /** Default job image. */
  readonly jobImage: string;
  /** 'none': jobs cannot reach a Docker daemon; 'socket': jobs get the host's socket (host access). */
  readonly dockerAccess: "none" | "socket";
  readonly privileged: boolean;
  /** Memory limit per job container. @default no limit */
  readonly jobMemory?: string;
  /**
   * Host names job containers reach through the Docker host's published ports (Traefik), e.g.
   * GitLab's and the registry's: jobs run on Docker's default bridge, where public DNS would
   * send them out to the router and back (NAT loopback, which many routers lack).
   * @default none
   */
  readonly hostsViaDockerHost?: readonly string[];
  /** DNS servers of job containers: public ones, as jobs may not reach the LAN's. @default the host's */
  readonly dns?: readonly string[];
}

export interface DockerDeployRunnerProps {
  /** The host file holding the runner authentication token. */
  readonly token: HostSecretFile;
  /** Default image of deploy jobs: the Docker CLI with Compose, e.g. 'docker:28.5.1-cli'. */
  readonly jobImage: string;
  /**
   * Host directory deploy jobs check out into, mounted into them at the same path: a
   * `docker compose` bind mount of ./conf then names a path that exists on the host.
   */
  readonly buildsDir: string;
  /** Host names deploy jobs reach through the Docker host's published ports (Traefik). @default none */
  readonly hostsViaDockerHost?: readonly string[];
}

export interface DockerRunnerFleetProps {
  readonly network: Network;
  /** Prefix of the runner names shown in GitLab, e.g. the environment name. */
  readonly namePrefix: string;
  /** gitlab-runner version; the image is gitlab/gitlab-runner:alpine-v<version>. */
  readonly runnerVersion: string;
  /** GitLab's external URL the runners poll. */
  readonly gitlabUrl: string;
  /** Jobs the build runner runs at once. */
  readonly concurrent: number;
  readonly build: DockerBuildRunnerProps;
  /** The protected deploy runner. @default no deploy runner */
  readonly deploy?: DockerDeployRunnerProps;
  /** Image of the cleanup scheduler (Docker CLI + busybox crond). */
  readonly schedulerImage: string;
  /** When the cleanup runs (cron, UTC). */
  readonly cleanupSchedule: string;
  /** Only the runners' stopped containers, dangling images and build cache older than this are pruned, e.g. '4h'. */
  readonly cleanupOlderThan: string;
  /** The runners' unused cache volumes created longer ago than this are removed, e.g. '168h'. */
  readonly cleanupCacheOlderThan: string;
}

export class DockerRunnerFleet extends Construct {
  readonly buildRunner: PlatformContainer;
  readonly deployRunner?: PlatformContainer;
  /** The deploy jobs' network, when there is a deploy runner. */
  readonly deployJobsNetwork?: Network;
  readonly cleanup: PlatformContainer;
  /** Prometheus targets of the runners' metrics. */
  readonly metricsTargets: readonly string[];

  constructor(scope: Construct, id: string, props: DockerRunnerFleetProps) {
    super(scope, id);
    const runnerImage = `gitlab/gitlab-runner:alpine-v${props.runnerVersion}`;
    this.buildRunner = this.addBuildRunner(props, runnerImage);
    if (props.deploy) {
      this.deployJobsNetwork = new Network(this, "deploy-jobs-network", {
        name: DEPLOY_JOBS_NETWORK,
        driver: "bridge",
        labels: [{ label: KEEP_LABEL, value: "true" }],
      });
      this.deployRunner = this.addDeployRunner(props, props.deploy, runnerImage);
      // The network exists before the first job needs it.
      this.deployRunner.container.node.addDependency(this.deployJobsNetwork);
    }
    this.cleanup = this.addCleanup(props);
    this.metricsTargets = [this.buildRunner, ...(this.deployRunner ? [this.deployRunner] : [])].map((r) => `${r.name}:${RUNNER_METRICS_PORT}`);
  }

  private addBuildRunner(props: DockerRunnerFleetProps, image: string): PlatformContainer {
    const build = props.build;
    const jobVolumes = ["/cache", ...(build.dockerAccess === "socket" ? [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`] : [])];
    return this.runner("build", {
      name: "gitlab-runner-build",
      image,
      network: props.network,
      token: build.token,
      concurrent: props.concurrent,
      settings: {
        name: `${props.namePrefix}-docker-{hostname}`,
        url: props.gitlabUrl,
        token: { envVar: "RUNNER_TOKEN" },
        executor: "docker",
        docker: {
          image: build.jobImage,
          privileged: build.privileged,
          pullPolicy: ["if-not-present"],
          volumes: jobVolumes,
          ...(build.jobMemory ? { memory: build.jobMemory } : {}),
          // host-gateway: the daemon's own address on the job's bridge (Docker ≥ 20.10).
          ...(build.hostsViaDockerHost?.length ? { extraHosts: build.hostsViaDockerHost.map((h) => `${h}:host-gateway`) } : {}),
          ...(build.dns?.length ? { dns: build.dns } : {}),
        },
      },
    });
  }

  private addDeployRunner(props: DockerRunnerFleetProps, deploy: DockerDeployRunnerProps, image: string): PlatformContainer {
    return this.runner("deploy", {
      name: DEPLOY_RUNNER_CONTAINER_NAME,
      image,
      network: props.network,
      token: deploy.token,
      // Deploys run one at a time.
      concurrent: 1,
      settings: {
        name: `${props.namePrefix}-deploy-{hostname}`,
        url: props.gitlabUrl,
        token: { envVar: "RUNNER_TOKEN" },
        executor: "docker",
        buildsDir: deploy.buildsDir,
        docker: {
          image: deploy.jobImage,
          privileged: false,
          pullPolicy: ["if-not-present"],
          // The host's Docker (protected refs only: the boundary between the two runners), and
          // the checkout at the same path as on the host.
          volumes: [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`, `${deploy.buildsDir}:${deploy.buildsDir}`, "/cache"],
          networkMode: DEPLOY_JOBS_NETWORK,
          ...(deploy.hostsViaDockerHost?.length ? { extraHosts: deploy.hostsViaDockerHost.map((h) => `${h}:host-gateway`) } : {}),
        },
      },
    });
  }

  private addCleanup(props: DockerRunnerFleetProps): PlatformContainer {
    return new PlatformContainer(this, "cleanup", {
      name: "docker-cleanup",
      image: props.schedulerImage,
      network: props.network,
      stopGraceSeconds: 10,
      files: [
        { path: "/usr/local/bin/docker-cleanup", content: hostScript("runner-docker-cleanup.sh"), executable: true },
        {
          path: "/etc/crontabs/root",
          content: renderCrontab([{ schedule: props.cleanupSchedule, command: "/usr/local/bin/docker-cleanup" }], "Docker cleanup"),
          permissions: "0600",
        },
      ],
      container: {
        entrypoint: ["crond", "-f", "-d", "8"],
        healthcheck: SCHEDULER_HEALTHCHECK,
        env: [`CLEANUP_OLDER_THAN=${props.cleanupOlderThan}`, `CLEANUP_CACHE_OLDER_THAN=${props.cleanupCacheOlderThan}`, "TZ=UTC"],
        volumes: [{ hostPath: DOCKER_SOCKET, containerPath: DOCKER_SOCKET }],
      },
    });
  }

  private runner(
    id: string,
    r: {
      name: string;
      image: string;
      network: Network;
      token: HostSecretFile;
      concurrent: number;
      settings: RunnerSettings;
    },
  ): PlatformContainer {
    const config = renderRunnerConfig({ concurrent: r.concurrent, metricsListenAddress: `:${RUNNER_METRICS_PORT}`, runners: [r.settings] });
    return new PlatformContainer(this, id, {
      name: r.name,
      image: r.image,
      network: r.network,
      secretFiles: [r.token],
      // SIGQUIT: the runner takes no new jobs and waits for running ones (SIGTERM would abort
      // them), for as long as the AWS fleet waits on a scale-in.
      stopSignal: "SIGQUIT",
      stopGraceSeconds: RUNNER_STOP_GRACE_SECONDS,
      files: [
        { path: "/etc/gitlab-runner/config.toml.template", content: config, permissions: "0600" },
        { path: ENTRYPOINT, content: hostScript("runner-entrypoint.sh"), executable: true },
      ],
      container: {
        entrypoint: [ENTRYPOINT],
        command: RUNNER_COMMAND,
        // The entry point reads the token from the file into config.toml at start.
        env: [`RUNNER_TOKEN_FILE=${r.token.containerPath}`],
        // The runner manager starts job containers (build) or runs docker commands (deploy).
        volumes: [{ hostPath: DOCKER_SOCKET, containerPath: DOCKER_SOCKET }],
        healthcheck: {
          test: ["CMD-SHELL", `wget -q -O /dev/null http://localhost:${RUNNER_METRICS_PORT}/metrics || exit 1`],
          interval: "60s",
          timeout: "10s",
          retries: 3,
        },
      },
    });
  }
}
