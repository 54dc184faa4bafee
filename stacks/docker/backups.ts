// Backups props on the docker platform: the scheduler execs into the GitLab it is given and
// copies to the NAS.
import type { DockerBackupsProps } from "../../constructs/backups/docker";
import type { GitLabContainerRef } from "../../constructs/gitlab-server/docker";
import type { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import type { CronEntry } from "../../userdata/crontab";
import type { DockerEnvironment } from "./environment";

export function backupsProps(
  env: DockerEnvironment,
  parts: { readonly network: DockerPrivateNetwork; readonly gitlab: GitLabContainerRef & { readonly automationTokenRenewal: CronEntry } },
): DockerBackupsProps {
  return {
    network: parts.network.network,
    image: env.docker.images.dockerCli,
    schedule: env.backups.schedule,
    nfs: env.backups.nfs,
    retentionDays: env.backups.retentionDays,
    gitlab: parts.gitlab,
    // The scheduler already execs into GitLab: it renews the automation token daily too.
    extraJobs: [parts.gitlab.automationTokenRenewal],
  };
}
