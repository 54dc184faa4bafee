// GitLab CE in one container on a Docker host. Config, logs and data are bind-mounted from
// the host, so a new container (new version, new gitlab.rb) starts on the same data.
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import type { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { renderApplicationSettings, type ApplicationSettings } from "../../userdata/application-settings";
import { renderGitlabRb, type OmnibusSettings } from "../../userdata/gitlab-rb";
import { hostScript } from "../../userdata/host-scripts";
import { terraformLiteral } from "../terraform-literal";

/** Host sub-directories under the data root and where they are mounted in the container. */
export const GITLAB_MOUNTS = [
  { hostDir: "gitlab/config", containerPath: "/etc/gitlab" },
  { hostDir: "gitlab/logs", containerPath: "/var/log/gitlab" },
  { hostDir: "gitlab/data", containerPath: "/var/opt/gitlab" },
] as const;

const APPLY_SETTINGS_PATH = "/usr/local/bin/gitlab-apply-settings";

export interface DockerGitLabServerProps {
  /** Exact GitLab CE version; the image is gitlab/gitlab-ce:<version>. */
  readonly gitlabVersion: string;
  /** The container's host name: GitLab's web host name. */
  readonly hostname: string;
  readonly omnibus: OmnibusSettings;
  readonly applicationSettings: ApplicationSettings;
  /** Host directory holding every persistent directory of the platform. */
  readonly dataRoot: string;
  readonly network: Network;
  /** /dev/shm size in MB. */
  readonly shmSizeMb: number;
  /** Secrets gitlab.rb reads with ENV.fetch: variable name → value (a sensitive Terraform variable reference). */
  readonly secretEnvironment: Readonly<Record<string, string>>;
}

export class DockerGitLabServer extends Construct {
  readonly container: Container;
  /** Name other containers reach GitLab by on the private network. */
  readonly containerName: string;
  /** Host paths of GitLab's persistent directories (config, logs, data). */
  readonly hostPaths: readonly string[];

  constructor(scope: Construct, id: string, props: DockerGitLabServerProps) {
    super(scope, id);
    this.containerName = "gitlab";
    this.hostPaths = GITLAB_MOUNTS.map((m) => `${props.dataRoot}/${m.hostDir}`);

    const image = new Image(this, "image", {
      name: `gitlab/gitlab-ce:${props.gitlabVersion}`,
      keepLocally: true,
    });

    const settings = renderApplicationSettings(props.applicationSettings);
    const env = Object.entries(props.secretEnvironment)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => `${name}=${value}`);
    if (settings) env.push(`GITLAB_POST_RECONFIGURE_SCRIPT=${APPLY_SETTINGS_PATH}`);

    this.container = new Container(this, "container", {
      name: this.containerName,
      image: image.imageId,
      hostname: props.hostname,
      restart: "unless-stopped",
      shmSize: props.shmSizeMb,
      // Give PostgreSQL and Gitaly time to shut down cleanly before a replacement.
      stopTimeout: 120,
      env,
      volumes: GITLAB_MOUNTS.map((m) => ({ hostPath: `${props.dataRoot}/${m.hostDir}`, containerPath: m.containerPath })),
      ports: [{ internal: 22, external: props.omnibus.sshPort, protocol: "tcp" }],
      networksAdvanced: [{ name: props.network.name, aliases: [props.hostname] }],
      upload: [
        { file: "/etc/gitlab/gitlab.rb", content: terraformLiteral(renderGitlabRb(props.omnibus)), permissions: "0600" },
        ...(settings
          ? [
              { file: "/etc/gitlab/application-settings.rb", content: terraformLiteral(settings), permissions: "0600" },
              { file: APPLY_SETTINGS_PATH, content: terraformLiteral(hostScript("gitlab-apply-settings.sh")), executable: true },
            ]
          : []),
      ],
      healthcheck: {
        test: ["CMD", "/opt/gitlab/bin/gitlab-healthcheck", "--fail", "--max-time", "10"],
        interval: "60s",
        timeout: "30s",
        retries: 5,
        // First boot runs migrations; give it time before counting failures.
        startPeriod: "600s",
      },
      logDriver: "json-file",
      logOpts: { "max-size": "50m", "max-file": "5" },
    });
  }
}
