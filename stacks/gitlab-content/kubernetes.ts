// kubernetes: the automation token is the `token` key of a Secret in the GitLab namespace,
// written by a Job of the first stack; read here by name, not by reference.
import { HelmProvider } from "@cdktf/provider-helm/lib/provider";
import { DataKubernetesSecretV1 } from "@cdktf/provider-kubernetes/lib/data-kubernetes-secret-v1";
import { KubernetesProvider } from "@cdktf/provider-kubernetes/lib/provider";
import type { Construct } from "constructs";
import type { KubernetesEnvironment } from "../kubernetes-stack";
import { AUTOMATION_TOKEN_KUBERNETES_SECRET, type ContentPlatform } from "./platform";

/** The Kubernetes and Helm providers on the first stack's cluster, and the token from the Secret. */
export function kubernetesContentPlatform(scope: Construct, env: KubernetesEnvironment): ContentPlatform {
  const cluster = {
    configContext: env.kubernetes.kubeconfig.context,
    ...(env.kubernetes.kubeconfig.path ? { configPath: env.kubernetes.kubeconfig.path } : {}),
  };
  const kubernetes = new KubernetesProvider(scope, "kubernetes", cluster);
  const helm = new HelmProvider(scope, "helm", { kubernetes: cluster });
  const secret = new DataKubernetesSecretV1(scope, "automation-token", {
    metadata: { name: AUTOMATION_TOKEN_KUBERNETES_SECRET, namespace: env.kubernetes.namespace },
  });
  return { platform: "kubernetes", kubernetes, helm, automationToken: secret.data.lookup("token") };
}
