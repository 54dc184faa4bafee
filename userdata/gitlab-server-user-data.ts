// The cloud-init user data of the GitLab EC2 instance: gitlab.rb, the bootstrap script and
// what it needs to know. Pure: takes a typed model, returns the document.
import { renderApplicationSettings, type ApplicationSettings } from "./application-settings";
import { renderCloudConfig, type WriteFile } from "./cloud-config";
import { renderGitlabRb, type OmnibusSettings } from "./gitlab-rb";
import { compactScript } from "./host-scripts";
import { renderDataOwnersList } from "./omnibus-accounts";

/** A secret fetched from Secrets Manager at boot into /etc/gitlab/secrets.d/<name>. */
export interface BootSecret {
  readonly name: string;
  readonly arn: string;
}

export interface GitlabServerUserDataProps {
  readonly gitlabVersion: string;
  readonly region: string;
  /** The Host dimension of the BootstrapFailed metric a failed bootstrap sends. */
  readonly metricHost: string;
  /** EBS volume id (a Terraform reference at synth time) mounted at /var/opt/gitlab. */
  readonly dataVolumeId: string;
  readonly omnibus: OmnibusSettings;
  readonly secrets: readonly BootSecret[];
  readonly applicationSettings: ApplicationSettings;
  /** More files for the host (scripts, systemd units, agent config). @default none */
  readonly extraFiles?: readonly WriteFile[];
  /** systemd units the bootstrap enables and starts once GitLab is configured. @default none */
  readonly enableUnits?: readonly string[];
  /**
   * Where the bootstrap stores the automation token (AUTOMATION_TOKEN_STORE, e.g.
   * 'aws-secret:staging-gitlab/automation-token'); the script is one of extraFiles. @default no token
   */
  readonly automationTokenStore?: string;
}

export const SECRETS_DIR = "/etc/gitlab/secrets.d";
/** The bootstrap starts the CloudWatch agent with this config when the file is there. */
export const SERVER_AGENT_CONFIG_PATH = "/etc/gitlab-platform/cloudwatch-agent.json";
/** The bootstrap's own log, shipped with the system logs. */
export const SERVER_BOOTSTRAP_LOG = "/var/log/gitlab-bootstrap.log";

/**
 * sshd serves git over SSH to the internet and nothing else: only GitLab's `git` user may log
 * in (EC2 Instance Connect would otherwise let `ubuntu` in). Admins use SSM Session Manager.
 * The bootstrap reloads sshd first thing, in case it started before this file was written.
 */
export const SSHD_GIT_ONLY_PATH = "/etc/ssh/sshd_config.d/10-gitlab-git-only.conf";
export const SSHD_GIT_ONLY_CONFIG = "# GitLab platform: git over SSH only; admins use SSM Session Manager.\nAllowUsers git\n";

/** Where gitlab.rb reads a boot-time secret from. */
export function bootSecretFile(name: string): { file: string } {
  return { file: `${SECRETS_DIR}/${secretName(name)}` };
}

function secretName(name: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`invalid secret name '${name}'`);
  return name;
}

function unitName(name: string): string {
  if (!/^[a-z0-9@_.-]+\.(service|timer)$/.test(name)) throw new Error(`invalid unit name '${name}'`);
  return name;
}

function shellValue(value: string): string {
  // Values are ids, versions, ARNs or Terraform references; anything else is a bug upstream.
  if (!/^[A-Za-z0-9_.:/${}[\]+=@-]*$/.test(value)) throw new Error(`unsafe value for bootstrap.env: '${value}'`);
  return value;
}

export function renderGitlabServerUserData(p: GitlabServerUserDataProps): string {
  const env = [
    `GITLAB_VERSION=${shellValue(p.gitlabVersion)}`,
    `AWS_REGION=${shellValue(p.region)}`,
    `DATA_VOLUME_ID=${shellValue(p.dataVolumeId)}`,
    `METRIC_HOST=${shellValue(p.metricHost)}`,
    `ENABLE_UNITS="${(p.enableUnits ?? []).map(unitName).join(" ")}"`,
    ...(p.automationTokenStore ? [`AUTOMATION_TOKEN_STORE=${shellValue(p.automationTokenStore)}`] : []),
  ];
  const secretsList = p.secrets.map((s) => `${secretName(s.name)} ${shellValue(s.arn)}`);
  const settings = renderApplicationSettings(p.applicationSettings);
  return renderCloudConfig({
    writeFiles: [
      { path: "/etc/gitlab-platform/bootstrap.env", permissions: "0600", content: `${env.join("\n")}\n` },
      { path: "/etc/gitlab-platform/secrets.list", permissions: "0600", content: secretsList.length ? `${secretsList.join("\n")}\n` : "" },
      { path: "/etc/gitlab/gitlab.rb", permissions: "0600", content: renderGitlabRb(p.omnibus) },
      // Who must own GitLab's data on the volume (the ids gitlab.rb pins), checked before reconfigure.
      { path: "/etc/gitlab-platform/data-owners.list", permissions: "0644", content: renderDataOwnersList() },
      { path: SSHD_GIT_ONLY_PATH, permissions: "0644", content: SSHD_GIT_ONLY_CONFIG },
      ...(settings ? [{ path: "/etc/gitlab/application-settings.rb", permissions: "0600", content: settings }] : []),
      { path: "/usr/local/sbin/gitlab-bootstrap", permissions: "0755", content: compactScript("gitlab-bootstrap.sh") },
      { path: "/usr/local/sbin/gitlab-apply-settings", permissions: "0755", content: compactScript("gitlab-apply-settings.sh") },
      { path: "/usr/local/sbin/gitlab-keep-identity", permissions: "0755", content: compactScript("gitlab-keep-identity.sh") },
      { path: "/usr/local/sbin/gitlab-data-owners", permissions: "0755", content: compactScript("gitlab-data-owners.sh") },
      ...(p.extraFiles ?? []),
    ],
    runcmd: [["/usr/local/sbin/gitlab-bootstrap"]],
  });
}
