// Renders /etc/gitlab/gitlab.rb from a typed model. Both platforms use it: the EC2 user
// data writes the result to disk, the GitLab container gets it uploaded. Secrets are never
// values here: they are read at reconfigure time from a root-only file or the environment.
import { openIdConnectProvider } from "./oidc-provider";
import type { OmnibusAccountKey } from "./omnibus-accounts";
import { RubyExpression, rubyAssignment, rubyString, type RubyValue } from "./ruby";

/** Where reconfigure finds a secret: a root-only file written at boot, or a container env var. */
export type SecretSource = { readonly file: string } | { readonly env: string };

/** How HTTPS reaches GitLab's nginx. */
export type TlsTermination =
  /** A proxy in front (Traefik) terminates TLS; nginx serves plain HTTP on 80 and trusts the proxy. */
  | { readonly mode: "proxy"; readonly trustedProxies: readonly string[] }
  /**
   * nginx terminates TLS itself with a certificate installed at boot (Cloudflare Origin CA);
   * with `trustedProxies` (Cloudflare's proxy in front) the client address comes from them.
   */
  | { readonly mode: "certificate"; readonly certificatePath: string; readonly keyPath: string; readonly trustedProxies?: readonly string[] };

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: SecretSource;
  readonly security: "starttls" | "tls" | "none";
  readonly domain: string;
}

export interface OidcSettings {
  readonly label: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: SecretSource;
  readonly autoSignIn: boolean;
  /** New SSO accounts wait for an admin's approval. */
  readonly blockAutoCreatedUsers: boolean;
  /** Link existing accounts to the IdP user with the same e-mail. */
  readonly autoLinkUsers: boolean;
}

export interface ExternalDatabaseSettings {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly username: string;
  readonly password: SecretSource;
  readonly sslMode: string;
}

/** S3 through the instance's IAM role: no access keys anywhere. */
export interface S3Location {
  readonly region: string;
  readonly bucket: string;
}

export interface ObjectStorageSettings {
  readonly region: string;
  /** Bucket per object type (artifacts, lfs, uploads, packages, …). */
  readonly buckets: Readonly<Record<ObjectType, string>>;
}

export const OBJECT_TYPES = ["artifacts", "external_diffs", "lfs", "uploads", "packages", "dependency_proxy", "terraform_state", "ci_secure_files"] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export interface MonitoringSettings {
  /** Clients allowed to read /-/metrics and the health endpoints (CIDRs). */
  readonly whitelist: readonly string[];
  /** An outside Prometheus scrapes the exporters: they listen on all interfaces. */
  readonly exportersOnAllInterfaces: boolean;
}

export interface OmnibusSettings {
  readonly externalUrl: string;
  readonly registryExternalUrl?: string;
  readonly sshHost: string;
  readonly sshPort: number;
  readonly timeZone: string;
  readonly emailFrom: string;
  readonly tls: TlsTermination;
  /** 'small' applies the low-memory tuning for a host of 4–8 GB. */
  readonly memoryProfile: "standard" | "small";
  readonly monitoring: MonitoringSettings;
  readonly smtp?: SmtpSettings;
  readonly oidc?: OidcSettings;
  readonly externalDatabase?: ExternalDatabaseSettings;
  readonly objectStorage?: ObjectStorageSettings;
  /** Registry image storage in S3; the filesystem under /var/opt/gitlab otherwise. */
  readonly registryS3?: S3Location;
  /** How long local backup archives are kept, in seconds. */
  readonly backupKeepSeconds: number;
  /** Upload each backup archive to this bucket (aws); the folder is chosen per run (DIRECTORY=). */
  readonly backupUpload?: S3Location;
  /** Fixed uid (= gid) per Omnibus account, for data that outlives the host (aws). @default Omnibus picks free ids */
  readonly accountIds?: Readonly<Record<OmnibusAccountKey, number>>;
}

function secret(source: SecretSource): RubyExpression {
  return "file" in source ? RubyExpression.fileContents(source.file) : RubyExpression.env(source.env);
}

type Line = string;
const set = rubyAssignment;

function identity(s: OmnibusSettings): Line[] {
  const lines = [`external_url ${rubyString(s.externalUrl)}`];
  if (s.registryExternalUrl) lines.push(`registry_external_url ${rubyString(s.registryExternalUrl)}`);
  lines.push(
    set("gitlab_rails", "gitlab_ssh_host", s.sshHost),
    set("gitlab_rails", "gitlab_shell_ssh_port", s.sshPort),
    set("gitlab_rails", "time_zone", s.timeZone),
    set("gitlab_rails", "gitlab_email_from", s.emailFrom),
    set("gitlab_rails", "usage_ping_enabled", false),
  );
  return lines;
}

function tls(t: TlsTermination, hasRegistry: boolean): Line[] {
  const lines = [set("letsencrypt", "enable", false)];
  const webServers = hasRegistry ? ["nginx", "registry_nginx"] : ["nginx"];
  if (t.mode === "proxy") {
    for (const server of webServers) {
      lines.push(
        set(server, "listen_port", 80),
        set(server, "listen_https", false),
        set(server, "proxy_set_headers", { "X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on" }),
      );
    }
    lines.push(...clientAddressFrom(t.trustedProxies, webServers));
  } else {
    for (const server of webServers) {
      lines.push(set(server, "ssl_certificate", t.certificatePath), set(server, "ssl_certificate_key", t.keyPath), set(server, "redirect_http_to_https", true));
    }
    if (t.trustedProxies?.length) lines.push(...clientAddressFrom(t.trustedProxies, webServers));
  }
  return lines;
}

/**
 * The client's address as these proxies forward it (X-Forwarded-For), believed from them
 * only: by GitLab's nginx and the registry's (its access log and rate limits), and by Rails.
 */
function clientAddressFrom(proxies: readonly string[], webServers: readonly string[]): Line[] {
  return [
    ...webServers.flatMap((server) => [
      set(server, "real_ip_trusted_addresses", proxies),
      set(server, "real_ip_header", "X-Forwarded-For"),
      set(server, "real_ip_recursive", "on"),
    ]),
    set("gitlab_rails", "trusted_proxies", proxies),
  ];
}

/** Low memory: Puma 2 workers, Sidekiq 5 threads, PostgreSQL 64 MB shared buffers, jemalloc returning memory sooner. */
function memory(s: OmnibusSettings): Line[] {
  if (s.memoryProfile !== "small") return [];
  const malloc = { MALLOC_CONF: "dirty_decay_ms:1000,muzzy_decay_ms:1000" };
  const lines = [
    set("puma", "worker_processes", 2),
    set("sidekiq", "concurrency", 5),
    set("gitlab_rails", "env", malloc),
    set("gitaly", "env", malloc),
    set("gitlab_kas", "enable", false),
  ];
  if (!s.externalDatabase) lines.push(set("postgresql", "shared_buffers", "64MB"), set("postgresql", "max_worker_processes", 4));
  return lines;
}

function monitoring(s: OmnibusSettings): Line[] {
  const m = s.monitoring;
  // GitLab's own Prometheus, Alertmanager and Grafana are never wanted: the platform runs
  // (docker) or uses (aws, CloudWatch) its own. The exporters stay for whoever scrapes them.
  const lines = [set("prometheus", "enable", false), set("alertmanager", "enable", false), set("gitlab_rails", "monitoring_whitelist", m.whitelist)];
  if (s.externalDatabase) lines.push(set("postgres_exporter", "enable", false));
  if (m.exportersOnAllInterfaces) {
    lines.push(
      set("node_exporter", "listen_address", "0.0.0.0:9100"),
      set("redis_exporter", "listen_address", "0.0.0.0:9121"),
      set("gitlab_exporter", "listen_address", "0.0.0.0"),
      set("gitlab_exporter", "listen_port", "9168"),
      set("sidekiq", "listen_address", "0.0.0.0"),
      set("gitlab_workhorse", "prometheus_listen_addr", "0.0.0.0:9229"),
      set("registry", "debug_addr", "0.0.0.0:5001"),
    );
    if (!s.externalDatabase) lines.push(set("postgres_exporter", "listen_address", "0.0.0.0:9187"));
  }
  return lines;
}

function smtp(m: SmtpSettings): Line[] {
  return [
    set("gitlab_rails", "smtp_enable", true),
    set("gitlab_rails", "smtp_address", m.host),
    set("gitlab_rails", "smtp_port", m.port),
    set("gitlab_rails", "smtp_user_name", m.username),
    set("gitlab_rails", "smtp_password", secret(m.password)),
    set("gitlab_rails", "smtp_domain", m.domain),
    set("gitlab_rails", "smtp_authentication", "login"),
    set("gitlab_rails", "smtp_enable_starttls_auto", m.security === "starttls"),
    set("gitlab_rails", "smtp_tls", m.security === "tls"),
  ];
}

function oidc(o: OidcSettings, externalUrl: string): Line[] {
  const provider: RubyValue = openIdConnectProvider({ ...o, externalUrl }, secret(o.clientSecret));
  const lines = [
    set("gitlab_rails", "omniauth_enabled", true),
    set("gitlab_rails", "omniauth_allow_single_sign_on", ["openid_connect"]),
    set("gitlab_rails", "omniauth_block_auto_created_users", o.blockAutoCreatedUsers),
    // Linked, an account loses its password login: never by default (the break-glass admin must keep it).
    set("gitlab_rails", "omniauth_auto_link_user", o.autoLinkUsers ? ["openid_connect"] : false),
    set("gitlab_rails", "omniauth_providers", [provider]),
  ];
  if (o.autoSignIn) lines.push(set("gitlab_rails", "omniauth_auto_sign_in_with_provider", "openid_connect"));
  return lines;
}

function externalDatabase(d: ExternalDatabaseSettings): Line[] {
  return [
    set("postgresql", "enable", false),
    set("gitlab_rails", "db_adapter", "postgresql"),
    set("gitlab_rails", "db_encoding", "unicode"),
    set("gitlab_rails", "db_host", d.host),
    set("gitlab_rails", "db_port", d.port),
    set("gitlab_rails", "db_database", d.name),
    set("gitlab_rails", "db_username", d.username),
    set("gitlab_rails", "db_password", secret(d.password)),
    set("gitlab_rails", "db_sslmode", d.sslMode),
  ];
}

const iamConnection = (region: string) => ({ provider: "AWS", region, use_iam_profile: true });

function objectStorage(o: ObjectStorageSettings): Line[] {
  const objects = Object.fromEntries(OBJECT_TYPES.map((t) => [t, { bucket: o.buckets[t] }]));
  return [
    set("gitlab_rails", "object_store", {
      enabled: true,
      proxy_download: false,
      connection: iamConnection(o.region),
      objects,
    }),
  ];
}

function registryStorage(r: S3Location): Line[] {
  return [set("registry", "storage", { s3: { bucket: r.bucket, region: r.region }, redirect: { disable: false } })];
}

function backups(s: OmnibusSettings): Line[] {
  const lines = [set("gitlab_rails", "backup_keep_time", s.backupKeepSeconds)];
  if (s.backupUpload) {
    lines.push(
      set("gitlab_rails", "backup_upload_connection", iamConnection(s.backupUpload.region)),
      set("gitlab_rails", "backup_upload_remote_directory", s.backupUpload.bucket),
      set("gitlab_rails", "backup_upload_storage_options", { server_side_encryption: "AES256" }),
    );
  }
  return lines;
}

/** The same uid and gid for every account, whatever image the next instance boots. */
function accounts(ids: Readonly<Record<OmnibusAccountKey, number>>): Line[] {
  return Object.entries(ids).flatMap(([key, id]) => [set(key, "uid", id), set(key, "gid", id)]);
}

const HEADER =
  "# Generated by gitlab-platform from config/<env>.yaml. Do not edit on the host:\n# changes are overwritten on the next deploy. Secrets are read at reconfigure time.";

/** The complete gitlab.rb for one environment. */
export function renderGitlabRb(s: OmnibusSettings): string {
  const sections: [string, Line[]][] = [
    ["URLs and SSH", identity(s)],
    ["Accounts (fixed ids: the data volume outlives the instance)", s.accountIds ? accounts(s.accountIds) : []],
    ["TLS", tls(s.tls, s.registryExternalUrl !== undefined)],
    ["Memory", memory(s)],
    ["Monitoring", monitoring(s)],
    ["E-mail", s.smtp ? smtp(s.smtp) : []],
    ["Single sign-on", s.oidc ? oidc(s.oidc, s.externalUrl) : []],
    ["Database", s.externalDatabase ? externalDatabase(s.externalDatabase) : []],
    ["Object storage", s.objectStorage ? objectStorage(s.objectStorage) : []],
    ["Registry storage", s.registryS3 ? registryStorage(s.registryS3) : []],
    ["Backups", backups(s)],
  ];
  const body = sections
    .filter(([, lines]) => lines.length > 0)
    .map(([title, lines]) => `## ${title}\n${lines.join("\n")}`)
    .join("\n\n");
  return `${HEADER}\n\n${body}\n`;
}
