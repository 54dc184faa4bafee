// Prometheus, Alertmanager and Grafana for GitLab on the Docker host. Every file they read is
// rendered by the pure renderers in userdata/monitoring/ and uploaded into the container;
// their data lives in host directories under the data root (bind mounts, never Docker
// volumes, so `docker system prune --volumes` cannot touch it). Nothing is published: Grafana
// is reached through Traefik (see `route`), the rest only on the private network.
import type { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { alertThresholds, renderAlertRules, renderAlertRuleTests, type AlertThresholds } from "../../userdata/monitoring/alert-rules";
import { gitlabAlertRules } from "../../userdata/monitoring/rules";
import { renderAlertmanagerConfig, type AlertmanagerReceiver } from "../../userdata/monitoring/alertmanager-config";
import { DASHBOARDS, dashboardText } from "../../userdata/monitoring/dashboards";
import { renderGrafanaDashboardProvider, renderGrafanaDatasources } from "../../userdata/monitoring/grafana-provisioning";
import {
  ALERTMANAGER_PORT,
  GRAFANA_PORT,
  PROMETHEUS_PORT,
  platformScrapeJobs,
  renderPrometheusConfig,
  type ScrapeJob,
} from "../../userdata/monitoring/prometheus-config";
import { PlatformContainer, type ContainerFile, type HostSecretFile } from "../docker-conventions";
import type { GitLabContainerRef } from "../gitlab-server/docker";

/** Container names, which are also their host names on the private network. */
export const OBSERVABILITY_CONTAINERS = { prometheus: "prometheus", alertmanager: "alertmanager", grafana: "grafana" } as const;

/** Where each container reads its files and keeps its data. */
export const OBSERVABILITY_PATHS = {
  prometheus: {
    config: "/etc/prometheus/prometheus.yml",
    rules: "/etc/prometheus/rules/gitlab.rules.yml",
    /** The rules' promtool unit tests, beside them (npm run verify runs them; Prometheus never loads them). */
    ruleTests: "/etc/prometheus/rules/gitlab.rules.test.yml",
    data: "/prometheus",
  },
  alertmanager: {
    config: "/etc/alertmanager/alertmanager.yml",
    data: "/alertmanager",
  },
  grafana: {
    datasources: "/etc/grafana/provisioning/datasources/gitlab-platform.yml",
    dashboardProvider: "/etc/grafana/provisioning/dashboards/gitlab-platform.yml",
    dashboards: "/etc/grafana/dashboards/gitlab",
    data: "/var/lib/grafana",
  },
} as const;

const SCRAPE_INTERVAL = "30s";

/**
 * prom/prometheus and prom/alertmanager run as nobody (65534), grafana/grafana as 472. The
 * host directories Docker creates for bind mounts belong to root, so those users could not
 * write their data. The containers run as root instead, with every capability dropped except
 * DAC_OVERRIDE (so directories an operator already chowned to 65534/472 keep working) and no
 * privilege escalation: nothing to chown by hand, on a fresh host or an old one.
 */
const RUN_AS = {
  user: "0:0",
  capabilities: { drop: ["ALL"], add: ["DAC_OVERRIDE"] },
  securityOpts: ["no-new-privileges:true"],
};

/** An SMTP login for the alert e-mail. */
export interface ObservabilityEmailAuth {
  readonly username: string;
  /** The host file holding the password. */
  readonly password: HostSecretFile;
}

/** Where alerts go. */
export type ObservabilityAlertReceiver =
  | { readonly email: { readonly to: string; readonly from: string; readonly smarthost: string; readonly auth?: ObservabilityEmailAuth } }
  /** The host file holding the URL (it often embeds a token). */
  | { readonly webhookUrl: HostSecretFile };

/** Grafana's sign-in through the IdP (generic OAuth), its groups mapped to Grafana's roles. */
export interface GrafanaSso {
  /** Button label. */
  readonly label: string;
  readonly authUrl: string;
  readonly tokenUrl: string;
  readonly userinfoUrl: string;
  readonly clientId: string;
  /** The host file holding the client secret. */
  readonly clientSecret: HostSecretFile;
  /** IdP group of Grafana Admins. */
  readonly adminGroup: string;
  /** IdP group of Grafana Editors; everyone else the IdP lets in is a Viewer. */
  readonly editorGroup: string;
}

export interface ObservabilityImages {
  /** e.g. prom/prometheus:v3.7.3 */
  readonly prometheus: string;
  /** e.g. prom/alertmanager:v0.28.1 (url_file for webhooks needs ≥ v0.26) */
  readonly alertmanager: string;
  /** e.g. grafana/grafana:12.2.1 (the Alpine-based image: its healthcheck uses busybox wget) */
  readonly grafana: string;
}

/** A host name Traefik routes to a container's plain-HTTP port (the shape of TraefikRoute). */
export interface ObservabilityRoute {
  readonly name: string;
  readonly host: string;
  readonly containerName: string;
  readonly port: number;
}

export interface DockerObservabilityProps {
  /** The private network; GitLab and the runners are reachable on it by container name. */
  readonly network: Network;
  /** Prometheus's fixed address on it: GitLab lets that address, and no other, read its metrics. */
  readonly prometheusAddress: string;
  /** Host directory under which prometheus/, alertmanager/ and grafana/ hold the data. */
  readonly dataRoot: string;
  /** The environment's domain; Grafana answers at <grafanaHostname>.<domain>. */
  readonly domain: string;
  /** Grafana's host name label under the domain. @default 'grafana' */
  readonly grafanaHostname?: string;
  /** Pinned images. */
  readonly images: ObservabilityImages;
  /** How long Prometheus keeps samples, in days. */
  readonly retentionDays: number;
  /** Where Alertmanager sends alerts. */
  readonly alertReceiver: ObservabilityAlertReceiver;
  /** The host file holding Grafana's admin password. */
  readonly grafanaAdminPassword: HostSecretFile;
  /** Sign-in through the IdP. @default the admin's password only (keep Grafana off the internet then) */
  readonly grafanaSso?: GrafanaSso;
  /** host:port of each runner's metrics listener, e.g. 'gitlab-runner-build:9252'. @default [] */
  readonly runnerTargets?: readonly string[];
  /** Hours after the last successful backup at which GitLabBackupTooOld fires. */
  readonly backupMaxAgeHours: number;
  /** The GitLab container, scraped by its name on the private network. */
  readonly gitlab: GitLabContainerRef;
  /** GitLab's web host name, which Traefik answers on the private network: Rails metrics are scraped over HTTPS through it. @default the container name, over HTTP */
  readonly gitlabWebHost?: string;
  /** GitLab runs its bundled PostgreSQL, so postgres_exporter is scraped (false with an external database). @default true */
  readonly scrapePostgres?: boolean;
  /** GitLab's container registry runs, so its debug server is scraped. @default true */
  readonly scrapeRegistry?: boolean;
  /** Other thresholds than the defaults (DEFAULT_ALERT_THRESHOLDS). @default {} */
  readonly alertThresholds?: Partial<Omit<AlertThresholds, "backupMaxAgeHours">>;
  /** More scrape jobs, e.g. Traefik's metrics. @default [] */
  readonly extraScrapeJobs?: readonly ScrapeJob[];
}

/** Grafana's settings for signing in through the IdP; the client secret comes from its file. */
function grafanaOAuthEnv(sso: GrafanaSso): string[] {
  // JMESPath over the userinfo: the IdP's groups claim decides the role; no group, Viewer.
  const role = `contains(groups[*], '${sso.adminGroup}') && 'Admin' || contains(groups[*], '${sso.editorGroup}') && 'Editor' || 'Viewer'`;
  return [
    "GF_AUTH_GENERIC_OAUTH_ENABLED=true",
    `GF_AUTH_GENERIC_OAUTH_NAME=${sso.label}`,
    `GF_AUTH_GENERIC_OAUTH_CLIENT_ID=${sso.clientId}`,
    `GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE=${sso.clientSecret.containerPath}`,
    "GF_AUTH_GENERIC_OAUTH_SCOPES=openid profile email",
    `GF_AUTH_GENERIC_OAUTH_AUTH_URL=${sso.authUrl}`,
    `GF_AUTH_GENERIC_OAUTH_TOKEN_URL=${sso.tokenUrl}`,
    `GF_AUTH_GENERIC_OAUTH_API_URL=${sso.userinfoUrl}`,
    "GF_AUTH_GENERIC_OAUTH_USE_PKCE=true",
    "GF_AUTH_GENERIC_OAUTH_LOGIN_ATTRIBUTE_PATH=preferred_username",
    "GF_AUTH_GENERIC_OAUTH_EMAIL_ATTRIBUTE_PATH=email",
    `GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH=${role}`,
    // The IdP is the gate (its application bound to the group allowed in): those it lets in get an account.
    "GF_AUTH_GENERIC_OAUTH_ALLOW_SIGN_UP=true",
    // The admin's password form stays, for when the IdP is down.
    "GF_AUTH_DISABLE_LOGIN_FORM=false",
  ];
}

function requirePinned(image: string, what: string): string {
  const tagOrDigest = /@sha256:[a-f0-9]{64}$|:[\w][\w.-]{0,127}$/.exec(image.replace(/^[^/]*:\d+\//, ""));
  if (!tagOrDigest || /:latest$/.test(image)) throw new Error(`${what} image '${image}' must be pinned to a version tag or digest (not latest)`);
  return image;
}

export class DockerObservability extends Construct {
  readonly prometheus: PlatformContainer;
  readonly alertmanager: PlatformContainer;
  readonly grafana: PlatformContainer;
  /** Grafana's route for Traefik: https://<grafanaHostname>.<domain> → grafana:3000. */
  readonly route: ObservabilityRoute;
  /** Grafana's URL. */
  readonly grafanaUrl: string;
  /** Host directories holding Prometheus', Alertmanager's and Grafana's data. */
  readonly hostPaths: readonly string[];
  /** The scrape jobs Prometheus runs (job label and targets). */
  readonly scrapeJobs: readonly ScrapeJob[];

  constructor(scope: Construct, id: string, props: DockerObservabilityProps) {
    super(scope, id);
    const grafanaHost = `${props.grafanaHostname ?? "grafana"}.${props.domain}`;
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1)
      throw new Error(`retentionDays must be a whole number of days ≥ 1, got ${props.retentionDays}`);

    const hostDir = dataDirs(props.dataRoot);
    this.hostPaths = [hostDir("prometheus"), hostDir("alertmanager"), hostDir("grafana")];
    this.route = { name: "grafana", host: grafanaHost, containerName: OBSERVABILITY_CONTAINERS.grafana, port: GRAFANA_PORT };
    this.grafanaUrl = `https://${grafanaHost}`;

    this.scrapeJobs = scrapeJobs(props);
    this.prometheus = this.prometheusContainer(props, this.scrapeJobs);
    this.alertmanager = this.alertmanagerContainer(props);
    this.grafana = this.grafanaContainer(props, grafanaHost);
  }

  /** Prometheus: scrape config, and the alert rules with their unit tests beside them. */
  private prometheusContainer(props: DockerObservabilityProps, jobs: readonly ScrapeJob[]): PlatformContainer {
    const hostDir = dataDirs(props.dataRoot);
    const P = OBSERVABILITY_PATHS.prometheus;
    const rules = gitlabAlertRules(alertThresholds({ ...props.alertThresholds, backupMaxAgeHours: props.backupMaxAgeHours }));
    return new PlatformContainer(this, "prometheus", {
      name: OBSERVABILITY_CONTAINERS.prometheus,
      image: requirePinned(props.images.prometheus, "prometheus"),
      network: props.network,
      ipv4Address: props.prometheusAddress,
      // Let Prometheus write its head block out on shutdown instead of replaying the WAL.
      stopGraceSeconds: 120,
      files: [
        {
          path: P.config,
          content: renderPrometheusConfig({
            scrapeInterval: SCRAPE_INTERVAL,
            evaluationInterval: SCRAPE_INTERVAL,
            ruleFiles: [P.rules],
            alertmanagers: [`${OBSERVABILITY_CONTAINERS.alertmanager}:${ALERTMANAGER_PORT}`],
            jobs,
          }),
        },
        { path: P.rules, content: renderAlertRules(rules) },
        { path: P.ruleTests, content: renderAlertRuleTests(rules, P.rules) },
      ],
      container: {
        ...RUN_AS,
        command: [
          `--config.file=${P.config}`,
          `--storage.tsdb.path=${P.data}`,
          `--storage.tsdb.retention.time=${props.retentionDays}d`,
          `--web.listen-address=:${PROMETHEUS_PORT}`,
        ],
        volumes: [{ hostPath: hostDir("prometheus"), containerPath: P.data }],
        // 127.0.0.1, not localhost: busybox wget may try ::1 first, where nothing listens without IPv6.
        healthcheck: health(["CMD", "wget", "-q", "--spider", `http://127.0.0.1:${PROMETHEUS_PORT}/-/healthy`]),
      },
    });
  }

  private alertmanagerContainer(props: DockerObservabilityProps): PlatformContainer {
    const hostDir = dataDirs(props.dataRoot);
    const webhookUrl = "webhookUrl" in props.alertReceiver ? props.alertReceiver.webhookUrl : undefined;
    const email = "email" in props.alertReceiver ? props.alertReceiver.email : undefined;
    const smtpPassword = email?.auth?.password;
    // Alertmanager. A webhook URL usually embeds a token, so it is not in alertmanager.yml:
    // url_file names its file on the host, mounted read-only. That keeps it out of the
    // config (shown in Alertmanager's status page), out of `docker inspect` (where an
    // environment variable would show it) and out of Terraform's state. An SMTP password takes
    // the same path, through auth_password_file.
    const A = OBSERVABILITY_PATHS.alertmanager;
    const receiver: AlertmanagerReceiver = email
      ? {
          email: {
            to: email.to,
            from: email.from,
            smarthost: email.smarthost,
            ...(email.auth ? { auth: { username: email.auth.username, passwordFile: email.auth.password.containerPath } } : {}),
          },
        }
      : { webhook: { urlFile: (webhookUrl as HostSecretFile).containerPath } };
    return new PlatformContainer(this, "alertmanager", {
      name: OBSERVABILITY_CONTAINERS.alertmanager,
      image: requirePinned(props.images.alertmanager, "alertmanager"),
      network: props.network,
      // Silences and the notification log are written to its data directory on shutdown.
      stopGraceSeconds: 30,
      files: [{ path: A.config, content: renderAlertmanagerConfig({ receiver }) }],
      secretFiles: [...(webhookUrl ? [webhookUrl] : []), ...(smtpPassword ? [smtpPassword] : [])],
      container: {
        ...RUN_AS,
        command: [
          `--config.file=${A.config}`,
          `--storage.path=${A.data}`,
          // One instance: no cluster gossip listener.
          "--cluster.listen-address=",
          `--web.listen-address=:${ALERTMANAGER_PORT}`,
        ],
        volumes: [{ hostPath: hostDir("alertmanager"), containerPath: A.data }],
        healthcheck: health(["CMD", "wget", "-q", "--spider", `http://127.0.0.1:${ALERTMANAGER_PORT}/-/healthy`]),
      },
    });
  }

  private grafanaContainer(props: DockerObservabilityProps, grafanaHost: string): PlatformContainer {
    const hostDir = dataDirs(props.dataRoot);
    // Grafana: data sources and dashboards provisioned from files; the admin password from its
    // host file (Grafana uses it when it creates the admin user, on first start); sign-in
    // through the IdP when configured.
    const G = OBSERVABILITY_PATHS.grafana;
    const grafanaFiles: ContainerFile[] = [
      {
        path: G.datasources,
        content: renderGrafanaDatasources({
          prometheusUrl: `http://${OBSERVABILITY_CONTAINERS.prometheus}:${PROMETHEUS_PORT}`,
          alertmanagerUrl: `http://${OBSERVABILITY_CONTAINERS.alertmanager}:${ALERTMANAGER_PORT}`,
          scrapeInterval: SCRAPE_INTERVAL,
        }),
      },
      { path: G.dashboardProvider, content: renderGrafanaDashboardProvider({ folder: "GitLab", path: G.dashboards }) },
      // Dashboards are full of ${datasource}-style variables: PlatformContainer escapes them for Terraform.
      ...DASHBOARDS.map((name) => ({ path: `${G.dashboards}/${name}`, content: dashboardText(name) })),
    ];
    return new PlatformContainer(this, "grafana", {
      name: OBSERVABILITY_CONTAINERS.grafana,
      image: requirePinned(props.images.grafana, "grafana"),
      network: props.network,
      // Its SQLite database (users, sessions, preferences) closes cleanly.
      stopGraceSeconds: 30,
      files: grafanaFiles,
      secretFiles: [props.grafanaAdminPassword, ...(props.grafanaSso ? [props.grafanaSso.clientSecret] : [])],
      container: {
        ...RUN_AS,
        env: [
          "GF_SECURITY_ADMIN_USER=admin",
          `GF_SECURITY_ADMIN_PASSWORD__FILE=${props.grafanaAdminPassword.containerPath}`,
          "GF_AUTH_ANONYMOUS_ENABLED=false",
          "GF_USERS_ALLOW_SIGN_UP=false",
          `GF_SERVER_DOMAIN=${grafanaHost}`,
          `GF_SERVER_ROOT_URL=https://${grafanaHost}/`,
          "GF_SECURITY_COOKIE_SECURE=true",
          "GF_SECURITY_DISABLE_GRAVATAR=true",
          "GF_ANALYTICS_REPORTING_ENABLED=false",
          "GF_ANALYTICS_CHECK_FOR_UPDATES=false",
          "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false",
          `GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH=${G.dashboards}/overview.json`,
          "GF_LOG_MODE=console",
          ...(props.grafanaSso ? grafanaOAuthEnv(props.grafanaSso) : []),
        ],
        volumes: [{ hostPath: hostDir("grafana"), containerPath: G.data }],
        healthcheck: health(["CMD-SHELL", `wget -q --spider http://127.0.0.1:${GRAFANA_PORT}/api/health || exit 1`]),
      },
    });
  }
}

function health(test: string[]) {
  return { test, interval: "30s", timeout: "10s", retries: 3, startPeriod: "60s" };
}

/** Host directories of the three, under the data root. */
function dataDirs(dataRoot: string): (name: string) => string {
  return (name) => `${dataRoot.replace(/\/+$/, "")}/${name}`;
}

/** What Prometheus scrapes: GitLab's exporters (by its container), the runners, the stack itself, and any extra jobs. */
function scrapeJobs(props: DockerObservabilityProps): ScrapeJob[] {
  return [
    ...platformScrapeJobs({
      gitlabHost: props.gitlab.containerName,
      ...(props.gitlabWebHost ? { gitlabWebHost: props.gitlabWebHost } : {}),
      postgres: props.scrapePostgres ?? true,
      registry: props.scrapeRegistry ?? true,
      runnerTargets: props.runnerTargets ?? [],
      alertmanager: `${OBSERVABILITY_CONTAINERS.alertmanager}:${ALERTMANAGER_PORT}`,
      grafana: `${OBSERVABILITY_CONTAINERS.grafana}:${GRAFANA_PORT}`,
    }),
    ...(props.extraScrapeJobs ?? []),
  ];
}
