// Renders gitlab-runner's config.toml from a typed model (via smol-toml). The runner
// token is never a value here: the file carries a placeholder that the host (or the
// runner container's entrypoint) replaces with the token it fetched at boot.
import { stringify } from "smol-toml";

/** Names the environment variable whose value replaces the token placeholder on the host. */
export interface TokenFromHost {
  readonly envVar: string;
}

/** The placeholder written for a token; `render-runner-config.sh` substitutes it. */
export function tokenPlaceholder(t: TokenFromHost): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(t.envVar)) throw new Error(`invalid token variable name '${t.envVar}'`);
  return `@@${t.envVar}@@`;
}

export interface DockerExecutorSettings {
  readonly image: string;
  readonly privileged: boolean;
  readonly pullPolicy: readonly ("always" | "if-not-present" | "never")[];
  /** Volumes mounted into every job container, e.g. '/cache' or the Docker socket. */
  readonly volumes: readonly string[];
  readonly memory?: string;
  readonly cpus?: string;
  readonly networkMode?: string;
  /** /etc/hosts entries of job containers, e.g. 'gitlab.example.com:host-gateway'. */
  readonly extraHosts?: readonly string[];
  /** DNS servers of job containers. @default the Docker host's */
  readonly dns?: readonly string[];
}

export interface S3CacheSettings {
  readonly bucket: string;
  readonly region: string;
}

/** One [[runners.autoscaler.policy]]: idle capacity while its periods match (the last match wins). */
export interface AutoscalerPolicy {
  /** Five-field cron expressions. */
  readonly periods: readonly string[];
  /** IANA time zone of the periods. */
  readonly timezone: string;
  /** Idle capacity, in jobs. */
  readonly idleCount: number;
  /** Go duration an unused instance is kept, e.g. '20m'. */
  readonly idleTime: string;
}

/** [runners.autoscaler] of a docker-autoscaler runner (fleeting). */
export interface AutoscalerSettings {
  /** Fleeting plugin reference, e.g. 'aws:1.1'. */
  readonly plugin: string;
  /** [runners.autoscaler.plugin_config]: free-form, the plugin's own keys. */
  readonly pluginConfig: Readonly<Record<string, string>>;
  readonly capacityPerInstance: number;
  readonly maxUseCount: number;
  readonly maxInstances: number;
  /** Runs on each new instance over the connector; the instance is removed when it fails. */
  readonly instanceReadyCommand?: string;
  /** Remove the instances when the runner shuts down. */
  readonly deleteInstancesOnShutdown: boolean;
  /** [runners.autoscaler.connector_config]: how the manager reaches an instance. */
  readonly connector: {
    readonly os: "linux";
    readonly arch: "amd64" | "arm64";
    readonly protocol: "ssh";
    readonly username: string;
    readonly useExternalAddr: boolean;
  };
  readonly policies: readonly AutoscalerPolicy[];
}

export interface RunnerSettings {
  /** Shown in GitLab's runner list; `{hostname}` is replaced on the host. */
  readonly name: string;
  readonly url: string;
  readonly token: TokenFromHost;
  readonly executor: "docker" | "docker-autoscaler" | "shell";
  /** Where jobs check out and build, in the executor's view (a docker executor's job container). @default the executor's */
  readonly buildsDir?: string;
  /** Jobs this runner takes at once; 0 means only the global limit applies. */
  readonly limit?: number;
  readonly docker?: DockerExecutorSettings;
  readonly s3Cache?: S3CacheSettings;
  /** docker-autoscaler only. */
  readonly autoscaler?: AutoscalerSettings;
}

export interface RunnerConfig {
  readonly concurrent: number;
  /** Prometheus metrics of the runner process, e.g. ':9252'. */
  readonly metricsListenAddress?: string;
  readonly runners: readonly RunnerSettings[];
}

function autoscalerTable(a: AutoscalerSettings): Record<string, unknown> {
  return {
    plugin: a.plugin,
    capacity_per_instance: a.capacityPerInstance,
    max_use_count: a.maxUseCount,
    max_instances: a.maxInstances,
    ...(a.instanceReadyCommand ? { instance_ready_command: a.instanceReadyCommand } : {}),
    delete_instances_on_shutdown: a.deleteInstancesOnShutdown,
    plugin_config: { ...a.pluginConfig },
    connector_config: {
      os: a.connector.os,
      arch: a.connector.arch,
      protocol: a.connector.protocol,
      username: a.connector.username,
      use_external_addr: a.connector.useExternalAddr,
    },
    policy: a.policies.map((p) => ({ periods: [...p.periods], timezone: p.timezone, idle_count: p.idleCount, idle_time: p.idleTime })),
  };
}

function runnerTable(r: RunnerSettings): Record<string, unknown> {
  if (r.executor !== "shell" && !r.docker) throw new Error(`runner '${r.name}' uses the ${r.executor} executor but has no docker settings`);
  if (r.executor === "shell" && r.docker) throw new Error(`runner '${r.name}' is a shell runner; docker settings do not apply`);
  if ((r.executor === "docker-autoscaler") !== (r.autoscaler !== undefined)) {
    throw new Error(`runner '${r.name}': autoscaler settings go with the docker-autoscaler executor, and only with it`);
  }
  const table: Record<string, unknown> = {
    name: r.name,
    url: r.url,
    token: tokenPlaceholder(r.token),
    executor: r.executor,
  };
  if (r.limit !== undefined) table.limit = r.limit;
  if (r.buildsDir !== undefined) table.builds_dir = r.buildsDir;
  if (r.executor === "shell") table.shell = "bash";
  if (r.docker) {
    const d = r.docker;
    const docker: Record<string, unknown> = {
      image: d.image,
      privileged: d.privileged,
      pull_policy: [...d.pullPolicy],
      volumes: [...d.volumes],
      disable_cache: false,
      shm_size: 0,
    };
    if (d.memory) docker.memory = d.memory;
    if (d.cpus) docker.cpus = d.cpus;
    if (d.networkMode) docker.network_mode = d.networkMode;
    if (d.extraHosts?.length) docker.extra_hosts = [...d.extraHosts];
    if (d.dns?.length) docker.dns = [...d.dns];
    table.docker = docker;
  }
  if (r.s3Cache) {
    table.cache = {
      Type: "s3",
      Shared: true,
      s3: { BucketName: r.s3Cache.bucket, BucketLocation: r.s3Cache.region, AuthenticationType: "iam" },
    };
  }
  if (r.autoscaler) table.autoscaler = autoscalerTable(r.autoscaler);
  return table;
}

export function renderRunnerConfig(c: RunnerConfig): string {
  if (c.runners.length === 0) throw new Error("a runner config needs at least one runner");
  const doc: Record<string, unknown> = {
    concurrent: c.concurrent,
    check_interval: 0,
    shutdown_timeout: 0,
  };
  if (c.metricsListenAddress) doc.listen_address = c.metricsListenAddress;
  doc.session_server = { session_timeout: 1800 };
  doc.runners = c.runners.map(runnerTable);
  return `# Generated by gitlab-platform. Tokens are filled in on the host at boot.\n${stringify(doc)}\n`;
}
