// Runner props. The token is a Terraform reference: the sensitive variable config names now;
// a gitlab_user_runner's token from the day-2 stack can take its place.
import type { KubernetesRunnerFleetProps } from "../../constructs/runner-fleet/kubernetes";
import type { KubernetesEnvironment } from "./environment";

/** A job's build container when config sets nothing: enough for alpine-sized jobs. */
export const DEFAULT_JOB_RESOURCES = { cpu: "100m", memory: "256Mi" } as const;

export function runnerFleetProps(env: KubernetesEnvironment, parts: Pick<KubernetesRunnerFleetProps, "server" | "token" | "metrics">): KubernetesRunnerFleetProps {
  const r = env.runners;
  return {
    ...parts,
    namespace: r.namespace,
    chartVersion: r.chartVersion,
    concurrent: r.concurrent,
    jobImage: r.jobImage,
    privileged: r.privileged,
    jobResources: {
      cpu: r.jobResources?.cpu ?? DEFAULT_JOB_RESOURCES.cpu,
      memory: r.jobResources?.memory ?? DEFAULT_JOB_RESOURCES.memory,
      ...(r.jobResources?.memoryLimit ? { memoryLimit: r.jobResources.memoryLimit } : {}),
    },
  };
}
