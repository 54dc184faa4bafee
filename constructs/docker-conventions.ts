// What every container of the docker platform has in common, in one place: a pinned
// image kept on the host, a restart policy, bounded logs, the private network, the label
// that tells the periodic Docker cleanup to leave it alone, a clean stop (its signal and
// grace period, honoured when Terraform replaces it too) and plans that never delete it.
import { Container, type ContainerConfig, type ContainerHealthcheck } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { terraformLiteral } from "./terraform-literal";

/** Label on every platform container and volume; `docker system prune` is told to skip it. */
export const KEEP_LABEL = "gitlab-platform.keep";

/**
 * Health of a scheduler container (Docker CLI image, busybox crond): crond runs and the
 * Docker API it drives through the mounted socket answers, or the next job would fail.
 */
export const SCHEDULER_HEALTHCHECK: ContainerHealthcheck = {
  test: ["CMD-SHELL", "pgrep -x crond > /dev/null && docker version --format '{{.Server.Version}}' > /dev/null"],
  interval: "5m",
  timeout: "30s",
  retries: 3,
};

/**
 * A secret in a root-only file on the Docker host (<dataRoot>/secrets/<name>), bind-mounted
 * read-only into the one container that reads it. It never passes through Terraform, so the
 * state (kept in GitLab on the homelab, readable by the project's Developers) holds none.
 */
export interface HostSecretFile {
  /** The file on the Docker host. */
  readonly hostPath: string;
  /** Where the container reads it. */
  readonly containerPath: string;
}

/** Where the secret file `name` lives on the host and in the container. */
export function hostSecretFile(dataRoot: string, name: string): HostSecretFile {
  if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) throw new Error(`secret file name '${name}' must be lower case letters, digits, '_', '.' or '-'`);
  return { hostPath: `${dataRoot.replace(/\/+$/, "")}/secrets/${name}`, containerPath: `/run/secrets/${name}` };
}

/** A file put into the container before it starts. */
export interface ContainerFile {
  /** Absolute path inside the container. */
  readonly path: string;
  readonly content: string;
  readonly executable?: boolean;
  /** Octal, e.g. '0600'. @default '0644' (or '0755' when executable) */
  readonly permissions?: string;
}

/** A network a container joins: a docker_network of this stack, or one looked up by name (data source). */
export interface ContainerNetwork {
  readonly name: string;
}

/** A file whose whole content is a sensitive Terraform value (a token), uploaded root-only. */
export interface SensitiveContainerFile {
  /** Absolute path inside the container. */
  readonly path: string;
  /** A Terraform reference to a sensitive attribute, never a literal. */
  readonly reference: string;
}

export interface PlatformContainerProps {
  /** Container name; also its DNS name on the private network. */
  readonly name: string;
  /** Pinned image reference (validated in config: a tag or digest, never latest), pulled as it is. */
  readonly image: string;
  /**
   * The private network it joins, or "host" for the host's network namespace (only for what
   * must act on the host's own network, with a policy suppression saying why).
   */
  readonly network: ContainerNetwork | "host";
  /** Files uploaded into the container (config, scripts); literal text, escaped for Terraform here. Never secrets. */
  readonly files?: readonly ContainerFile[];
  /**
   * Files whose content is a sensitive Terraform value (a runner token), 0600: the value stays
   * marked sensitive in plans; a new value replaces the container. @default none
   */
  readonly sensitiveFiles?: readonly SensitiveContainerFile[];
  /**
   * Secret files on the host the container reads, mounted read-only. A bind mount (the Mounts
   * API, not a volume bind) refuses a missing file: the container is not created, and the
   * error names the file, instead of Docker creating an empty directory in its place.
   * @default none
   */
  readonly secretFiles?: readonly HostSecretFile[];
  /**
   * Everything else of the container (env, volumes, ports, healthcheck, command…).
   * name, image, restart, networks, labels, upload, logging and stopping are set here and not overridable.
   */
  readonly container?: Omit<
    ContainerConfig,
    | "name"
    | "image"
    | "restart"
    | "networksAdvanced"
    | "networkMode"
    | "labels"
    | "upload"
    | "mounts"
    | "logDriver"
    | "logOpts"
    | "stopTimeout"
    | "stopSignal"
    | "destroyGraceSeconds"
    | "mustRun"
  >;
  /** Extra DNS aliases on the private network. */
  readonly aliases?: readonly string[];
  /** A fixed address on the private network, for allow-lists that name it. @default one Docker assigns */
  readonly ipv4Address?: string;
  /**
   * Seconds the container gets to shut down after its stop signal before it is killed: on
   * `docker stop`, on a host shutdown and when Terraform replaces or removes it. Give what
   * holds state time to write it out.
   */
  readonly stopGraceSeconds: number;
  /** The signal that asks it to stop. @default the image's (SIGTERM) */
  readonly stopSignal?: string;
}

/** One long-running container of the platform with the shared conventions applied. */
export class PlatformContainer extends Construct {
  readonly container: Container;
  readonly image: Image;
  readonly name: string;

  constructor(scope: Construct, id: string, props: PlatformContainerProps) {
    super(scope, id);
    if (!Number.isInteger(props.stopGraceSeconds) || props.stopGraceSeconds < 1) {
      throw new Error(`container ${props.name}: stopGraceSeconds must be a whole number of seconds, at least 1 (got ${props.stopGraceSeconds})`);
    }
    if (props.network === "host" && (props.aliases?.length || props.ipv4Address)) {
      throw new Error(`container ${props.name}: a container on the host's network has no aliases or address of its own`);
    }
    for (const f of props.sensitiveFiles ?? []) {
      if (!Token.isUnresolved(f.reference))
        throw new Error(`container ${props.name}: ${f.path} must get a Terraform reference to a sensitive value, not a literal`);
    }
    this.name = props.name;
    // Pulled, never built here: docker_image.build needs the classic image store, which
    // Docker 29 no longer uses on fresh installs.
    this.image = new Image(this, "image", { name: props.image, keepLocally: true });
    this.container = new Container(this, "container", {
      ...props.container,
      name: props.name,
      image: this.image.imageId,
      restart: "unless-stopped",
      ...(props.network === "host"
        ? { networkMode: "host" }
        : {
            networksAdvanced: [
              {
                name: props.network.name,
                ...(props.aliases?.length ? { aliases: [...props.aliases] } : {}),
                ...(props.ipv4Address ? { ipv4Address: props.ipv4Address } : {}),
              },
            ],
          }),
      labels: [{ label: KEEP_LABEL, value: "true" }],
      upload: [
        ...(props.files ?? []).map((f) => ({
          file: f.path,
          content: terraformLiteral(f.content),
          ...(f.executable ? { executable: true } : {}),
          ...(f.permissions ? { permissions: f.permissions } : {}),
        })),
        ...(props.sensitiveFiles ?? []).map((f) => ({ file: f.path, content: f.reference, permissions: "0600" })),
      ],
      ...(props.secretFiles?.length
        ? { mounts: props.secretFiles.map((s) => ({ type: "bind", source: s.hostPath, target: s.containerPath, readOnly: true })) }
        : {}),
      logDriver: "json-file",
      logOpts: { "max-size": "20m", "max-file": "5" },
      // docker stop, and the daemon at host shutdown, wait stop_timeout. The provider's delete
      // (resourceDockerContainerDelete) ignores it and waits destroy_grace_seconds, 0 when
      // unset: without it, every replacement would SIGKILL the container at once.
      stopTimeout: props.stopGraceSeconds,
      destroyGraceSeconds: props.stopGraceSeconds,
      ...(props.stopSignal ? { stopSignal: props.stopSignal } : {}),
      // must_run (default true) makes every refresh, even a plan's, delete a container it finds
      // stopped (resourceDockerContainerRead): one stopped for a restore, or for maintenance.
      // Docker's restart policy restarts what crashes; a stopped container stays stopped.
      mustRun: false,
    });
  }
}
