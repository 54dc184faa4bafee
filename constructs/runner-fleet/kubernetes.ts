// GitLab Runner on the kubernetes platform: the gitlab-runner chart with the Kubernetes
// executor, in a namespace of its own (job pods never share one with GitLab's Secrets). The
// token is any Terraform reference: a sensitive variable today, a gitlab_user_runner's token
// from the day-2 stack later, without a change here.
import { Construct } from "constructs";
import { runnerChartValues, type RunnerJobResources } from "../../userdata/helm/runner-values";
import type { KubernetesGitLabServer } from "../gitlab-server/kubernetes";
import { CHARTS, PlatformNamespace, PlatformRelease, PlatformSecret } from "../kubernetes-conventions";

export interface KubernetesRunnerFleetProps {
  readonly server: KubernetesGitLabServer;
  readonly namespace: string;
  readonly chartVersion: string;
  /** The runner authentication token (glrt-…): a Terraform reference, never a literal. */
  readonly token: string;
  readonly concurrent: number;
  readonly jobImage: string;
  readonly privileged: boolean;
  readonly jobResources: RunnerJobResources;
  /** A PodMonitor with these selector labels, when the cluster runs the Prometheus operator. */
  readonly metrics?: { readonly selectorLabels: Readonly<Record<string, string>> };
}

export class KubernetesRunnerFleet extends Construct {
  readonly namespace: PlatformNamespace;
  readonly release: PlatformRelease;

  constructor(scope: Construct, id: string, props: KubernetesRunnerFleetProps) {
    super(scope, id);
    this.namespace = new PlatformNamespace(this, "namespace", { name: props.namespace, stateful: false });
    // The chart reads runner-token; runner-registration-token must exist, empty (authentication-token flow).
    const token = new PlatformSecret(this, "token", {
      namespace: this.namespace,
      name: "gitlab-runner-token",
      data: { "runner-token": props.token, "runner-registration-token": "" },
    });
    this.release = new PlatformRelease(this, "chart", {
      chart: CHARTS.gitlabRunner,
      version: props.chartVersion,
      name: "gitlab-runner",
      namespace: this.namespace,
      values: runnerChartValues({
        gitlabUrl: props.server.url,
        concurrent: props.concurrent,
        tokenSecret: token.name,
        jobNamespace: props.namespace,
        jobImage: props.jobImage,
        privileged: props.privileged,
        jobResources: props.jobResources,
        ...(props.metrics ? { metrics: props.metrics } : {}),
      }),
      source: "userdata/helm/runner-values.ts",
      // It registers against GitLab: not before GitLab is there.
      dependsOn: [token.resource, props.server.release.release],
    });
  }
}
