// GitLab CE in one container on a Docker host. Config, logs and data are bind-mounted from
// the host, so a new container (new version, new gitlab.rb) starts on the same data.
import type { Container } from "@cdktf/provider-docker/lib/container";
import type { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { renderApplicationSettings, type ApplicationSettings } from "../../userdata/application-settings";
import { renderAutomationTokenScript, type AutomationTokenSettings } from "../../userdata/automation-token";
import type { CronEntry } from "../../userdata/crontab";
import { renderGitlabRb, type OmnibusSettings } from "../../userdata/gitlab-rb";
import { hostScript } from "../../userdata/host-scripts";
import type { TraefikRoute } from "../../userdata/traefik/traefik-config";
import { PlatformContainer, type ContainerFile, type HostSecretFile } from "../docker-conventions";
import { AUTOMATION_TOKEN_CONTAINER_PATH, GITLAB_CONTAINER_NAME } from "./docker-names";

/** Host sub-directories under the data root and where they are mounted in the container. */
export const GITLAB_MOUNTS = [
  { hostDir: "gitlab/config", containerPath: "/etc/gitlab" },
  { hostDir: "gitlab/logs", containerPath: "/var/log/gitlab" },
  { hostDir: "gitlab/data", containerPath: "/var/opt/gitlab" },
] as const;

const APPLY_SETTINGS_PATH = "/usr/local/bin/gitlab-apply-settings";
const AUTOMATION_TOKEN_SCRIPT_PATH = "/usr/local/bin/gitlab-automation-token";
/** Seconds GitLab gets between SIGTERM and SIGKILL. */
export const GITLAB_STOP_GRACE_SECONDS = 120;

/**
 * What other containers need to know of GitLab's (the way aws-cdk passes an IInstance, not an
 * id): backups exec into it and read its directories, Traefik routes to it, Prometheus scrapes
 * it. Rename the container and every one of them follows.
 */
export interface GitLabContainerRef {
  /** Its name, which is also its host name on the private network. */
  readonly containerName: string;
  /** GitLab's nginx, plain HTTP (Traefik terminates TLS in front of it). */
  readonly httpPort: number;
  /** Host directories mounted at /etc/gitlab and /var/opt/gitlab. */
  readonly hostDirs: { readonly config: string; readonly data: string };
}

/** A host directory mounted into the container. */
export interface BindMount {
  readonly hostPath: string;
  readonly containerPath: string;
}

export interface DockerGitLabServerProps {
  /** Exact GitLab CE version; the image is gitlab/gitlab-ce:<version>. */
  readonly gitlabVersion: string;
  readonly omnibus: OmnibusSettings;
  readonly applicationSettings: ApplicationSettings;
  /** Host directory holding every persistent directory of the platform. */
  readonly dataRoot: string;
  readonly network: Network;
  /** /dev/shm size in MB. */
  readonly shmSizeMb: number;
  /** Secret files on the host that gitlab.rb reads (File.read) at reconfigure: SMTP, OIDC, database passwords. */
  readonly secretFiles: readonly HostSecretFile[];
  /** More host directories to mount (e.g. registry storage). @default none */
  readonly extraMounts?: readonly BindMount[];
  /** The container's name on the host and the private network. @default 'gitlab' */
  readonly containerName?: string;
  /** The automation token's lifetime and renewal. @default 90 days, renewed 30 days before */
  readonly automationToken?: AutomationTokenSettings;
}

export class DockerGitLabServer extends Construct implements GitLabContainerRef {
  readonly container: Container;
  readonly containerName: string;
  readonly httpPort = 80;
  readonly hostDirs: GitLabContainerRef["hostDirs"];
  /** Host paths of GitLab's persistent directories (config, logs, data and extra mounts). */
  readonly hostPaths: readonly string[];
  /** The automation token file: in the container, and on the host (root-only). */
  readonly automationTokenFile: { readonly containerPath: string; readonly hostPath: string };
  /** The token's daily renewal, for a scheduler that may `docker exec` into GitLab. */
  readonly automationTokenRenewal: CronEntry;

  constructor(scope: Construct, id: string, props: DockerGitLabServerProps) {
    super(scope, id);
    this.containerName = props.containerName ?? GITLAB_CONTAINER_NAME;
    const hostDir = (dir: (typeof GITLAB_MOUNTS)[number]["hostDir"]) => `${props.dataRoot}/${dir}`;
    this.hostDirs = { config: hostDir("gitlab/config"), data: hostDir("gitlab/data") };
    const mounts: BindMount[] = [...GITLAB_MOUNTS.map((m) => ({ hostPath: hostDir(m.hostDir), containerPath: m.containerPath })), ...(props.extraMounts ?? [])];
    this.hostPaths = mounts.map((m) => m.hostPath);

    const settings = renderApplicationSettings(props.applicationSettings);
    this.automationTokenFile = { containerPath: AUTOMATION_TOKEN_CONTAINER_PATH, hostPath: `${this.hostDirs.config}/gitlab-platform/automation-token` };
    this.automationTokenRenewal = { schedule: "30 4 * * *", command: `/usr/local/bin/docker exec ${this.containerName} ${AUTOMATION_TOKEN_SCRIPT_PATH}` };
    // After every reconfigure: the settings, then the automation token (the script reads its store from the environment).
    const env = [`GITLAB_POST_RECONFIGURE_SCRIPT=${APPLY_SETTINGS_PATH}`, `AUTOMATION_TOKEN_STORE=file:${AUTOMATION_TOKEN_CONTAINER_PATH}`];

    const files: ContainerFile[] = [
      { path: "/etc/gitlab/gitlab.rb", content: renderGitlabRb(props.omnibus), permissions: "0600" },
      { path: APPLY_SETTINGS_PATH, content: hostScript("gitlab-apply-settings.sh"), executable: true },
      { path: AUTOMATION_TOKEN_SCRIPT_PATH, content: hostScript("gitlab-automation-token.sh"), executable: true },
      { path: "/etc/gitlab/automation-token.rb", content: renderAutomationTokenScript(props.automationToken), permissions: "0600" },
    ];
    if (settings) files.push({ path: "/etc/gitlab/application-settings.rb", content: settings, permissions: "0600" });

    this.container = new PlatformContainer(this, "gitlab", {
      name: this.containerName,
      image: `gitlab/gitlab-ce:${props.gitlabVersion}`,
      network: props.network,
      // Give PostgreSQL, Gitaly and Redis time to shut down cleanly (the image's SIGTERM
      // handler runs `gitlab-ctl stop`), on an upgrade as on a host shutdown.
      stopGraceSeconds: GITLAB_STOP_GRACE_SECONDS,
      // No alias for the web host name: on the private network it belongs to Traefik, which
      // serves it with TLS (GitLab's nginx listens on plain HTTP only).
      files,
      secretFiles: props.secretFiles,
      container: {
        // Not the web host name: Docker writes the hostname into the container's /etc/hosts,
        // and GitLab's calls to its own URL must reach Traefik (TLS), not its plain-HTTP nginx.
        hostname: this.containerName,
        shmSize: props.shmSizeMb,
        env,
        volumes: mounts.map((m) => ({ hostPath: m.hostPath, containerPath: m.containerPath })),
        ports: [{ internal: 22, external: props.omnibus.sshPort, protocol: "tcp" }],
        healthcheck: {
          test: ["CMD", "/opt/gitlab/bin/gitlab-healthcheck", "--fail", "--max-time", "10"],
          interval: "60s",
          timeout: "30s",
          retries: 5,
          // First boot runs migrations; give it time before counting failures.
          startPeriod: "600s",
        },
      },
    }).container;
  }

  /** Traefik's route from a host name to GitLab's nginx (the web UI, or the registry's vhost). */
  route(name: string, host: string): TraefikRoute {
    return { name, host, containerName: this.containerName, port: this.httpPort };
  }
}
