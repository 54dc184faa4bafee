// GitLab Runner on the kubernetes platform: the gitlab-runner chart with the Kubernetes
// executor, in a namespace of its own (job pods never share one with GitLab's Secrets). The
// first stack makes the namespace (KubernetesRunnerFleet); the `<env>-gitlab` stack, beside
// the gitlab_user_runner, writes the token Secret and installs the chart (KubernetesRunners),
// so a new token (a replaced runner) reaches the runner in the same apply: the runner's id, an
// annotation of its pod, rolls the pod, which reads the Secret only at start.
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { runnerChartValues, TOKEN_VERSION_ANNOTATION, type RunnerJobResources } from "../../userdata/helm/runner-values";
import { CHARTS, PlatformNamespace, PlatformRelease, PlatformSecret } from "../kubernetes-conventions";

/** The Secret the chart reads the runner token from. */
export const RUNNER_TOKEN_SECRET = "gitlab-runner-token";

export interface KubernetesRunnerFleetProps {
  readonly namespace: string;
}

/** The runner's namespace, in the first stack. */
export class KubernetesRunnerFleet extends Construct {
  readonly namespace: PlatformNamespace;

  constructor(scope: Construct, id: string, props: KubernetesRunnerFleetProps) {
    super(scope, id);
    this.namespace = new PlatformNamespace(this, "namespace", { name: props.namespace, stateful: false });
  }
}

export interface KubernetesRunnersProps {
  /** The runner's namespace (the first stack's, by name). */
  readonly namespace: { readonly name: string; readonly resource?: ITerraformDependable };
  /** GitLab's external URL the runner registers against. */
  readonly gitlabUrl: string;
  readonly chartVersion: string;
  /** The runner authentication token (glrt-…): a reference to a gitlab_user_runner's sensitive token, never a literal. */
  readonly token: string;
  /** Changes with the token, not secret (the gitlab_user_runner's id): a new one rolls the runner's pod. */
  readonly tokenVersion: string;
  readonly concurrent: number;
  readonly jobImage: string;
  readonly privileged: boolean;
  readonly jobResources: RunnerJobResources;
  /** A PodMonitor with these selector labels, when the cluster runs the Prometheus operator. */
  readonly metrics?: { readonly selectorLabels: Readonly<Record<string, string>> };
}

/** The token Secret and the chart release, in the `<env>-gitlab` stack. */
export class KubernetesRunners extends Construct {
  readonly token: PlatformSecret;
  readonly release: PlatformRelease;

  constructor(scope: Construct, id: string, props: KubernetesRunnersProps) {
    super(scope, id);
    // The chart reads runner-token; runner-registration-token must exist, empty (authentication-token flow).
    this.token = new PlatformSecret(this, "token", {
      namespace: props.namespace,
      name: RUNNER_TOKEN_SECRET,
      data: { "runner-token": props.token, "runner-registration-token": "" },
    });
    this.release = new PlatformRelease(this, "chart", {
      chart: CHARTS.gitlabRunner,
      version: props.chartVersion,
      name: "gitlab-runner",
      namespace: props.namespace,
      values: runnerChartValues({
        gitlabUrl: props.gitlabUrl,
        concurrent: props.concurrent,
        tokenSecret: this.token.name,
        jobNamespace: props.namespace.name,
        jobImage: props.jobImage,
        privileged: props.privileged,
        jobResources: props.jobResources,
        ...(props.metrics ? { metrics: props.metrics } : {}),
      }),
      // A reference, so beside the literal values: a new runner (a new token) rolls the pod.
      set: [{ name: `podAnnotations.${TOKEN_VERSION_ANNOTATION}`, value: props.tokenVersion }],
      source: "userdata/helm/runner-values.ts",
      dependsOn: [this.token.resource],
    });
  }
}
