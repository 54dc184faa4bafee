// Seed 000's two runners as a security boundary, on one Docker host:
// - build ('docker' tag): docker executor, every job in a fresh container that by default
//   cannot reach any Docker daemon;
// - deploy ('deploy' tag): shell executor with the host's Docker, registered in GitLab as
//   protected so only protected refs (main after merge) run there.
// Plus the periodic Docker cleanup that keeps the disk from filling up with what the runners
// leave behind, and only that: the host is shared with other services.
import type { Network } from "@cdktf/provider-docker/lib/network";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { join } from "node:path";
import { renderCrontab } from "../../userdata/crontab";
import { hostScript } from "../../userdata/host-scripts";
import { renderRunnerConfig, type RunnerSettings } from "../../userdata/runner-config";
import { PlatformContainer, SCHEDULER_HEALTHCHECK } from "../docker-conventions";

const DOCKER_SOCKET = "/var/run/docker.sock";
const ENTRYPOINT = "/usr/local/bin/runner-entrypoint";
/** The runner image's own command, kept as the arguments of our entry point. */
const RUNNER_COMMAND = ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"];
export const RUNNER_METRICS_PORT = 9252;
/** Seconds a runner gets to finish its running jobs when stopped or replaced. */
const RUNNER_STOP_GRACE_SECONDS = 300;
/**
 * The deploy runner's container name. Its jobs run inside it, so an apply that replaces it
 * kills itself: scripts/ci/apply-guard.ts refuses such plans in CI.
 */
export const DEPLOY_RUNNER_CONTAINER_NAME = "gitlab-runner-deploy";
/**
 * Tells runner-entrypoint.sh to put the job user in the group owning the host's Docker
 * socket: the deploy runner's shell jobs run `docker compose` as gitlab-runner, not root.
 */
const JOBS_USE_DOCKER_SOCKET = "JOBS_USE_DOCKER_SOCKET=1";

export interface DockerBuildRunnerProps {
  /** Runner authentication token (a sensitive Terraform variable reference). */
  readonly token: string;
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
  /** The deploy runner's token; no deploy runner without it. @default no deploy runner */
  readonly deployToken?: string;
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
  readonly cleanup: PlatformContainer;
  /** Prometheus targets of the runners' metrics. */
  readonly metricsTargets: readonly string[];

  constructor(scope: Construct, id: string, props: DockerRunnerFleetProps) {
    super(scope, id);
    const runnerImage = `gitlab/gitlab-runner:alpine-v${props.runnerVersion}`;

    const jobVolumes = ["/cache", ...(props.build.dockerAccess === "socket" ? [`${DOCKER_SOCKET}:${DOCKER_SOCKET}`] : [])];
    this.buildRunner = this.runner("build", {
      name: "gitlab-runner-build",
      image: runnerImage,
      network: props.network,
      token: props.build.token,
      concurrent: props.concurrent,
      settings: {
        name: `${props.namePrefix}-docker-{hostname}`,
        url: props.gitlabUrl,
        token: { envVar: "RUNNER_TOKEN" },
        executor: "docker",
        docker: {
          image: props.build.jobImage,
          privileged: props.build.privileged,
          pullPolicy: ["if-not-present"],
          volumes: jobVolumes,
          ...(props.build.jobMemory ? { memory: props.build.jobMemory } : {}),
          // host-gateway: the daemon's own address on the job's bridge (Docker ≥ 20.10).
          ...(props.build.hostsViaDockerHost?.length ? { extraHosts: props.build.hostsViaDockerHost.map((h) => `${h}:host-gateway`) } : {}),
        },
      },
    });

    if (props.deployToken) {
      const context = new TerraformAsset(this, "deploy-runner-image", {
        path: join(__dirname, "..", "..", "userdata", "images", "deploy-runner"),
        type: AssetType.DIRECTORY,
      });
      this.deployRunner = this.runner("deploy", {
        name: DEPLOY_RUNNER_CONTAINER_NAME,
        image: `gitlab-platform/deploy-runner:${props.runnerVersion}`,
        build: { context: context.path, args: { RUNNER_VERSION: props.runnerVersion } },
        network: props.network,
        token: props.deployToken,
        env: [JOBS_USE_DOCKER_SOCKET],
        // Deploys run one at a time.
        concurrent: 1,
        settings: {
          name: `${props.namePrefix}-deploy-{hostname}`,
          url: props.gitlabUrl,
          token: { envVar: "RUNNER_TOKEN" },
          executor: "shell",
        },
      });
    }

    this.cleanup = new PlatformContainer(this, "cleanup", {
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

    this.metricsTargets = [this.buildRunner, ...(this.deployRunner ? [this.deployRunner] : [])].map((r) => `${r.name}:${RUNNER_METRICS_PORT}`);
  }

  private runner(
    id: string,
    r: {
      name: string;
      image: string;
      build?: { context: string; args: Record<string, string> };
      network: Network;
      token: string;
      /** Extra environment of the runner container. */
      env?: readonly string[];
      concurrent: number;
      settings: RunnerSettings;
    },
  ): PlatformContainer {
    const config = renderRunnerConfig({ concurrent: r.concurrent, metricsListenAddress: `:${RUNNER_METRICS_PORT}`, runners: [r.settings] });
    return new PlatformContainer(this, id, {
      name: r.name,
      image: r.image,
      ...(r.build ? { build: r.build } : {}),
      network: r.network,
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
        env: [`RUNNER_TOKEN=${r.token}`, ...(r.env ?? [])],
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
