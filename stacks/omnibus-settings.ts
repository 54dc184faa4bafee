// Maps an environment's config to the gitlab.rb model both platforms render. What differs
// per platform (how secrets arrive, how TLS is terminated, who may scrape metrics) comes in
// as arguments, so this file holds no platform branches.
import type { Environment } from "../config/load";
import type { SecretRef } from "../config/schema/secrets";
import type { ApplicationSettings } from "../userdata/application-settings";
import type { MonitoringSettings, OmnibusSettings, SecretSource, TlsTermination } from "../userdata/gitlab-rb";
import { hostNames } from "./host-names";

/** The secrets gitlab.rb can need, by the name they are stored under on the host. */
export type GitlabSecretName = "smtp_password" | "oidc_client_secret" | "db_password";

export interface GitlabSecret<R extends SecretRef = SecretRef> {
  readonly name: GitlabSecretName;
  readonly ref: R;
}

/** Every secret the environment's gitlab section references. */
export function gitlabSecrets<R extends SecretRef>(gitlab: {
  smtp?: { password: R } | undefined;
  sso?: { clientSecret: R } | undefined;
  externalDatabase?: { password: R } | undefined;
}): GitlabSecret<R>[] {
  const found: GitlabSecret<R>[] = [];
  if (gitlab.smtp) found.push({ name: "smtp_password", ref: gitlab.smtp.password });
  if (gitlab.sso) found.push({ name: "oidc_client_secret", ref: gitlab.sso.clientSecret });
  if (gitlab.externalDatabase) found.push({ name: "db_password", ref: gitlab.externalDatabase.password });
  return found;
}

export interface PlatformOmnibusInputs {
  readonly tls: TlsTermination;
  readonly monitoring: MonitoringSettings;
  /** Where reconfigure reads the named secret from on this platform. */
  readonly secretSource: (name: GitlabSecretName) => SecretSource;
  readonly backupKeepSeconds: number;
  readonly extra?: Pick<OmnibusSettings, "objectStorage" | "registryS3" | "backupUpload" | "accountIds">;
}

export function omnibusSettings(env: Environment, platform: PlatformOmnibusInputs): OmnibusSettings {
  const hosts = hostNames(env);
  const g = env.gitlab;
  return {
    externalUrl: `https://${hosts.web}`,
    ...(hosts.registry ? { registryExternalUrl: `https://${hosts.registry}` } : {}),
    sshHost: hosts.ssh,
    sshPort: g.sshPort,
    timeZone: g.timeZone,
    emailFrom: g.emailFrom ?? `gitlab@${env.domain}`,
    tls: platform.tls,
    memoryProfile: g.memoryProfile,
    monitoring: platform.monitoring,
    backupKeepSeconds: platform.backupKeepSeconds,
    ...(g.smtp
      ? {
          smtp: {
            host: g.smtp.host,
            port: g.smtp.port,
            username: g.smtp.username,
            password: platform.secretSource("smtp_password"),
            security: g.smtp.security,
            domain: g.smtp.domain ?? env.domain,
          },
        }
      : {}),
    ...(g.sso
      ? {
          oidc: {
            label: g.sso.label,
            issuer: g.sso.issuer,
            clientId: g.sso.clientId,
            clientSecret: platform.secretSource("oidc_client_secret"),
            autoSignIn: g.sso.autoSignIn,
            blockAutoCreatedUsers: g.sso.blockAutoCreatedUsers,
            autoLinkUsers: g.sso.autoLinkUsers,
          },
        }
      : {}),
    ...(g.externalDatabase
      ? {
          externalDatabase: {
            host: g.externalDatabase.host,
            port: g.externalDatabase.port,
            name: g.externalDatabase.name,
            username: g.externalDatabase.username,
            password: platform.secretSource("db_password"),
            sslMode: g.externalDatabase.sslMode,
          },
        }
      : {}),
    ...platform.extra,
  };
}

/**
 * The break-glass rule: with SSO, only accounts without an SSO identity (local admins)
 * keep passwords. (Sign-up, off with SSO, is gitlab.settings.signupEnabled: the <env>-gitlab
 * stack's gitlab_application_settings, where drift shows in the plan.)
 */
export function applicationSettings(env: Environment): ApplicationSettings {
  const sso = env.gitlab.sso;
  if (!sso) return {};
  return {
    disablePasswordForSsoUsers: true,
    ...(sso.autoLinkUsers && sso.breakGlassAdminEmail ? { breakGlassAdminEmail: sso.breakGlassAdminEmail } : {}),
  };
}

/** Local loopback plus the given scraper (a network or one address) may read GitLab's metrics and health endpoints. */
export function monitoringWhitelist(cidr: string): string[] {
  return ["127.0.0.0/8", "::1/128", cidr];
}

export const DAY_SECONDS = 24 * 60 * 60;
