// The gitlab-runner chart's values: the Kubernetes executor (every job a pod in the runner's
// own namespace), the token read from a Secret the chart is only told the name of, and
// config.toml's [[runners]] section rendered with smol-toml.
import { stringify } from "smol-toml";
import type { HelmValues } from "./values";
import { jobRelabeling } from "./gitlab/metrics";

/** The job label of the runner's metrics (the alert rules select on it). */
export const RUNNER_METRICS_JOB = "gitlab-runner";

export interface RunnerJobResources {
  readonly cpu: string;
  readonly memory: string;
  readonly memoryLimit?: string;
}

export interface RunnerChartSettings {
  readonly gitlabUrl: string;
  readonly concurrent: number;
  /** Secret holding `runner-token` (the chart's runners.secret). */
  readonly tokenSecret: string;
  /** Namespace of the job pods. */
  readonly jobNamespace: string;
  readonly jobImage: string;
  /** Privileged job pods: root on their node. Only when config asks. */
  readonly privileged: boolean;
  readonly jobResources: RunnerJobResources;
  /** PodMonitor for the cluster's Prometheus operator, with the labels it selects by. */
  readonly metrics?: { readonly selectorLabels: Readonly<Record<string, string>> };
}

/**
 * The runner pod's annotation that holds the gitlab_user_runner's id: set on the release (a
 * Terraform reference, so not in the literal values), a new runner rolls the pod, which reads
 * the token Secret only at start.
 */
export const TOKEN_VERSION_ANNOTATION = "gitlab-platform/runner-id";

/** config.toml's [[runners]] section for the Kubernetes executor (keys: gitlab-runner's config.go). */
export function kubernetesExecutorToml(s: RunnerChartSettings): string {
  const r = s.jobResources;
  const kubernetes = {
    namespace: s.jobNamespace,
    image: s.jobImage,
    privileged: s.privileged,
    allow_privilege_escalation: s.privileged,
    cpu_request: r.cpu,
    memory_request: r.memory,
    ...(r.memoryLimit ? { memory_limit: r.memoryLimit } : {}),
    helper_cpu_request: "50m",
    helper_memory_request: "64Mi",
  };
  return stringify({ runners: [{ kubernetes }] });
}

export function runnerChartValues(s: RunnerChartSettings): HelmValues {
  return {
    gitlabUrl: s.gitlabUrl,
    concurrent: s.concurrent,
    rbac: { create: true },
    runners: { secret: s.tokenSecret, config: kubernetesExecutorToml(s) },
    // The manager pod itself is never privileged, whatever the jobs are.
    securityContext: { privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: false, capabilities: { drop: ["ALL"] } },
    metrics: s.metrics
      ? { enabled: true, podMonitor: { enabled: true, labels: { ...s.metrics.selectorLabels }, relabelings: jobRelabeling(RUNNER_METRICS_JOB) } }
      : { enabled: false },
  };
}
