// Runner props: the chart's settings from config. The namespace is the first stack's; the token
// Secret and the chart belong to the `<env>-gitlab` stack (stacks/gitlab-content/runners.ts).
import type { KubernetesRunnersProps } from "../../constructs/runner-fleet/kubernetes";
import type { KubernetesEnvironment } from "./environment";

/** A job's build container when config sets nothing: enough for alpine-sized jobs. */
export const DEFAULT_JOB_RESOURCES = { cpu: "100m", memory: "256Mi" } as const;

/** The chart's settings from config (everything but where it runs, its URL and its token). */
export function runnerFleetProps(
  env: KubernetesEnvironment,
): Pick<KubernetesRunnersProps, "chartVersion" | "concurrent" | "jobImage" | "privileged" | "jobResources"> {
  const r = env.runners;
  return {
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
