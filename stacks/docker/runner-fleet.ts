// What the first stack keeps of the docker runners: the deploy jobs' network (when there is a
// deploy runner) and the periodic Docker cleanup. The runner containers themselves belong to
// the `<env>-gitlab` stack, with the gitlab_user_runners whose tokens they get
// (stacks/gitlab-content/runners.ts).
import type { DockerRunnerFleetProps } from "../../constructs/runner-fleet/docker";
import type { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import type { DockerEnvironment } from "./environment";

export function runnerFleetProps(env: DockerEnvironment, parts: { readonly network: DockerPrivateNetwork }): DockerRunnerFleetProps {
  return {
    network: parts.network.network,
    deployJobsNetwork: env.runners.deploy !== undefined,
    schedulerImage: env.docker.images.dockerCli,
    cleanupSchedule: env.runners.cleanupSchedule,
    cleanupOlderThan: env.runners.cleanupOlderThan,
    cleanupCacheOlderThan: env.runners.cleanupCacheOlderThan,
  };
}
