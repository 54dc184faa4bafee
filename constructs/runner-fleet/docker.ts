// Two runners as a security boundary, on one Docker host:
// - build ('docker' tag): docker executor, every job in a fresh container that by default
//   cannot reach any Docker daemon;
// - deploy ('deploy' tag): registered in GitLab as protected, so only protected refs (main
//   after merge) run there; its jobs get the host's Docker. The hand-built homelab ran it
//   as a shell executor on the host; here the runner is itself a container, so its jobs run in job
//   containers of a stock, pinned image (the Docker CLI with Compose by default; what else a
//   job needs it installs itself, e.g. `apk add ansible`). Nothing is built on the host.
// The runner containers (DockerRunners) belong to the `<env>-gitlab` stack, beside the
// gitlab_user_runner whose token each gets as an uploaded file: a new token (a replaced runner)
// replaces its container. The first stack keeps what the runners need around them
// (DockerRunnerFleet): the deploy jobs' network and the periodic Docker cleanup that keeps the
// disk from filling up with what the runners leave behind, and only that: the host is shared.
import { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { renderCrontab } from "../../userdata/crontab";
import {
  buildRunnerConfigToml,
  DEPLOY_JOBS_NETWORK,
  type DockerRunnerConfigProps,
  deployRunnerConfigToml,
  RUNNER_METRICS_PORT,
} from "../../userdata/docker-runner-config";
import { hostScript } from "../../userdata/host-scripts";
import { KEEP_LABEL, PlatformContainer, SCHEDULER_HEALTHCHECK, type ContainerNetwork } from "../docker-conventions";
import { BUILD_RUNNER_CONTAINER_NAME, DEPLOY_RUNNER_CONTAINER_NAME } from "./docker-container-names";

const DOCKER_SOCKET = "/var/run/docker.sock";
const ENTRYPOINT = "/usr/local/bin/runner-entrypoint";
/** The runner image's own command, kept as the arguments of our entry point. */
const RUNNER_COMMAND = ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"];
/** Seconds a runner gets to finish its running jobs when stopped or replaced. */
const RUNNER_STOP_GRACE_SECONDS = 300;
/** Where the runner's token is uploaded in its container (root-only); the entry point reads it. */
export const RUNNER_TOKEN_FILE = "/etc/gitlab-runner/runner-token";
export { BUILD_RUNNER_CONTAINER_NAME, DEPLOY_JOBS_NETWORK, DEPLOY_RUNNER_CONTAINER_NAME, RUNNER_METRICS_PORT };

/**
 * The runner containers' props: `settings` is `runners` as config parsed it, whole, and
 * goes on to config.toml (userdata/docker-runner-config.ts); the rest is what the runners need
 * from around them.
 */
export interface DockerRunnersProps extends DockerRunnerConfigProps {
  /** The private network the runners join (the first stack's, looked up by name). */
  readonly network: ContainerNetwork;
  /**
   * Each runner's authentication token: a reference to its gitlab_user_runner's sensitive
   * token, never a literal. `deploy` is required when `settings.deploy` is set.
   */
  readonly tokens: { readonly build: string; readonly deploy?: string };
}

/** The runner containers, in the `<env>-gitlab` stack. */
export class DockerRunners extends Construct {
  readonly buildRunner: PlatformContainer;
  readonly deployRunner?: PlatformContainer;

  constructor(scope: Construct, id: string, props: DockerRunnersProps) {
    super(scope, id);
    const image = `gitlab/gitlab-runner:alpine-v${props.settings.version}`;
    this.buildRunner = this.runner("build", {
      name: BUILD_RUNNER_CONTAINER_NAME,
      image,
      network: props.network,
      token: props.tokens.build,
      config: buildRunnerConfigToml(props),
    });
    if (props.settings.deploy) {
      if (props.tokens.deploy === undefined)
        throw new Error("runners.deploy is set but the deploy runner has no token: register it (gitlab_user_runner 'deploy')");
      this.deployRunner = this.runner("deploy", {
        name: DEPLOY_RUNNER_CONTAINER_NAME,
        image,
        network: props.network,
        token: props.tokens.deploy,
        config: deployRunnerConfigToml(props),
      });
    }
  }

  private runner(id: string, r: { name: string; image: string; network: ContainerNetwork; token: string; config: string }): PlatformContainer {
    return new PlatformContainer(this, id, {
      name: r.name,
      image: r.image,
      network: r.network,
      // The token from the gitlab_user_runner, uploaded root-only: a new token replaces the container.
      sensitiveFiles: [{ path: RUNNER_TOKEN_FILE, reference: r.token }],
      // SIGQUIT: the runner takes no new jobs and waits for running ones (SIGTERM would abort
      // them), for as long as the AWS fleet waits on a scale-in.
      stopSignal: "SIGQUIT",
      stopGraceSeconds: RUNNER_STOP_GRACE_SECONDS,
      files: [
        { path: "/etc/gitlab-runner/config.toml.template", content: r.config, permissions: "0600" },
        { path: ENTRYPOINT, content: hostScript("runner-entrypoint.sh"), executable: true },
      ],
      container: {
        entrypoint: [ENTRYPOINT],
        command: RUNNER_COMMAND,
        // The entry point reads the token from the file into config.toml at start.
        env: [`RUNNER_TOKEN_FILE=${RUNNER_TOKEN_FILE}`],
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

export interface DockerRunnerFleetProps {
  readonly network: Network;
  /** A deploy runner is configured: its jobs' network is created here. @default false */
  readonly deployJobsNetwork?: boolean;
  /** Image of the cleanup scheduler (Docker CLI + busybox crond). */
  readonly schedulerImage: string;
  /** When the cleanup runs (cron, UTC). */
  readonly cleanupSchedule: string;
  /** Only the runners' stopped containers, dangling images and build cache older than this are pruned, e.g. '4h'. */
  readonly cleanupOlderThan: string;
  /** The runners' unused cache volumes created longer ago than this are removed, e.g. '168h'. */
  readonly cleanupCacheOlderThan: string;
}

/** What the runners need around them on the host, in the first stack: the deploy jobs' network and the cleanup. */
export class DockerRunnerFleet extends Construct {
  /** The deploy jobs' network, when there is a deploy runner. */
  readonly deployJobsNetwork?: Network;
  readonly cleanup: PlatformContainer;
  /** Prometheus targets of the runners' metrics (the containers of the `<env>-gitlab` stack, by name). */
  readonly metricsTargets: readonly string[];

  constructor(scope: Construct, id: string, props: DockerRunnerFleetProps) {
    super(scope, id);
    if (props.deployJobsNetwork) {
      // Before the deploy runner (second stack) starts its first job.
      this.deployJobsNetwork = new Network(this, "deploy-jobs-network", {
        name: DEPLOY_JOBS_NETWORK,
        driver: "bridge",
        labels: [{ label: KEEP_LABEL, value: "true" }],
      });
    }
    this.cleanup = this.addCleanup(props);
    const names = [BUILD_RUNNER_CONTAINER_NAME, ...(props.deployJobsNetwork ? [DEPLOY_RUNNER_CONTAINER_NAME] : [])];
    this.metricsTargets = names.map((name) => `${name}:${RUNNER_METRICS_PORT}`);
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
}
