// Renders prometheus.yml from a typed model (via the `yaml` package), and knows where GitLab's
// exporters listen when gitlab.rb opens them to the private network
// (`monitoring.exportersOnAllInterfaces` in userdata/gitlab-rb.ts).
import { stringify } from "yaml";

/** One scrape job: one exporter, one `job` label. */
export interface ScrapeJob {
  /** The `job` label of every series the job scrapes, e.g. 'gitlab-sidekiq'. */
  readonly name: string;
  /** host:port addresses. */
  readonly targets: readonly string[];
  /** @default '/metrics' */
  readonly metricsPath?: string;
  /** @default 'http' */
  readonly scheme?: "http" | "https";
}

export interface PrometheusConfigModel {
  /** @default '30s' */
  readonly scrapeInterval?: string;
  /** How often alert rules are evaluated. @default '30s' */
  readonly evaluationInterval?: string;
  /** Rule files Prometheus loads (absolute paths in the container); never their unit tests. */
  readonly ruleFiles: readonly string[];
  /** Alertmanager host:port addresses. */
  readonly alertmanagers: readonly string[];
  readonly jobs: readonly ScrapeJob[];
}

export const PROMETHEUS_PORT = 9090;
export const ALERTMANAGER_PORT = 9093;
export const GRAFANA_PORT = 3000;

/**
 * GitLab's exporters inside the GitLab container, with the `job` label each gets. Ports are
 * the ones gitlab.rb sets (or Omnibus defaults to) with exportersOnAllInterfaces.
 */
export const GITLAB_EXPORTERS = {
  /** Rails/Puma through GitLab's nginx; allowed because monitoring_whitelist holds the private network. */
  rails: { job: "gitlab-rails", port: 80, path: "/-/metrics" },
  workhorse: { job: "gitlab-workhorse", port: 9229, path: "/metrics" },
  sidekiq: { job: "gitlab-sidekiq", port: 8082, path: "/metrics" },
  /** gitlab-exporter: Sidekiq queue sizes and latencies (sidekiq_queue_size), database probes. */
  gitlabExporter: { job: "gitlab-exporter", port: 9168, path: "/metrics" },
  /** node_exporter; also serves the textfile collector, where the backup job writes gitlab_backup_* metrics. */
  node: { job: "gitlab-node", port: 9100, path: "/metrics" },
  redis: { job: "gitlab-redis", port: 9121, path: "/metrics" },
  postgres: { job: "gitlab-postgres", port: 9187, path: "/metrics" },
  /** The container registry's debug server. */
  registry: { job: "gitlab-registry", port: 5001, path: "/metrics" },
} as const;

export type GitLabExporter = keyof typeof GITLAB_EXPORTERS;

/** Job label of the runners' metrics. */
export const RUNNER_JOB = "gitlab-runner";

export interface PlatformTargets {
  /** Name of the GitLab container on the private network. */
  readonly gitlabHost: string;
  /**
   * GitLab's web host name, which on the private network is an alias of the TLS proxy (so
   * runners and everything else reach GitLab as the outside does). Rails metrics are then
   * read over HTTPS by that name: the request reaches GitLab's nginx with its own server
   * name, whichever other names (the registry's) it serves on port 80.
   * @default scrape gitlabHost:80 over HTTP
   */
  readonly gitlabWebHost?: string;
  /** Scrape the bundled PostgreSQL's exporter (off with an external database). */
  readonly postgres: boolean;
  /** Scrape the registry's debug server (off when the registry is disabled). */
  readonly registry: boolean;
  /** host:port of each runner's metrics listener. */
  readonly runnerTargets: readonly string[];
  /** host:port of Alertmanager and Grafana on the private network. */
  readonly alertmanager: string;
  readonly grafana: string;
}

/** Every scrape job of the platform: Prometheus itself, Alertmanager, Grafana, GitLab's exporters, the runners. */
export function platformScrapeJobs(t: PlatformTargets): ScrapeJob[] {
  const gitlab = (exporter: GitLabExporter): ScrapeJob => {
    const e = GITLAB_EXPORTERS[exporter];
    // Through the TLS proxy by GitLab's web host name (see PlatformTargets.gitlabWebHost).
    if (exporter === "rails" && t.gitlabWebHost) return { name: e.job, targets: [`${t.gitlabWebHost}:443`], metricsPath: e.path, scheme: "https" };
    return { name: e.job, targets: [`${t.gitlabHost}:${e.port}`], metricsPath: e.path };
  };
  const exporters: GitLabExporter[] = ["rails", "workhorse", "sidekiq", "gitlabExporter", "node", "redis"];
  if (t.postgres) exporters.push("postgres");
  if (t.registry) exporters.push("registry");
  return [
    { name: "prometheus", targets: [`localhost:${PROMETHEUS_PORT}`] },
    { name: "alertmanager", targets: [t.alertmanager] },
    { name: "grafana", targets: [t.grafana] },
    ...exporters.map(gitlab),
    ...(t.runnerTargets.length ? [{ name: RUNNER_JOB, targets: t.runnerTargets }] : []),
  ];
}

const HOST_PORT = /^[A-Za-z0-9._-]+:\d{1,5}$/;

export function renderPrometheusConfig(m: PrometheusConfigModel): string {
  const names = new Set<string>();
  for (const job of m.jobs) {
    if (names.has(job.name)) throw new Error(`scrape job '${job.name}' is defined twice; job names must be unique`);
    names.add(job.name);
    if (!job.targets.length) throw new Error(`scrape job '${job.name}' has no targets`);
    for (const target of job.targets) {
      if (!HOST_PORT.test(target)) throw new Error(`scrape target '${target}' of job '${job.name}' must be host:port`);
    }
  }
  const config = {
    global: {
      scrape_interval: m.scrapeInterval ?? "30s",
      evaluation_interval: m.evaluationInterval ?? "30s",
    },
    rule_files: [...m.ruleFiles],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...m.alertmanagers] }] }] },
    scrape_configs: m.jobs.map((job) => ({
      job_name: job.name,
      ...(job.scheme === "https" ? { scheme: "https" } : {}),
      ...(job.metricsPath && job.metricsPath !== "/metrics" ? { metrics_path: job.metricsPath } : {}),
      static_configs: [{ targets: [...job.targets] }],
    })),
  };
  return `# Generated by gitlab-platform (userdata/monitoring/prometheus-config.ts).\n${stringify(config, { lineWidth: 0 })}`;
}
