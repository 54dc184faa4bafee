// Argo CD props, when enabled: its host, SSO (GitLab as the OIDC provider by default) and
// the one Application.
import type { ClusterIssuerHandle } from "../../constructs/dns-tls/kubernetes";
import type { KubernetesArgoCdProps } from "../../constructs/gitops/kubernetes";
import { hostNames } from "../host-names";
import { argoCdHost } from "./dns-tls";
import type { KubernetesEnvironment, StackVariables } from "./environment";

/** The bundled ingress controller's IngressClass (the chart's default). */
export const BUNDLED_INGRESS_CLASS = "gitlab-nginx";

export function argoCdProps(env: KubernetesEnvironment, vars: StackVariables, issuer: ClusterIssuerHandle): KubernetesArgoCdProps | undefined {
  const a = env.kubernetes.argocd;
  if (!a.enabled || !a.application) return undefined;
  const ingress = env.kubernetes.ingress;
  return {
    namespace: a.namespace,
    chartVersion: a.chartVersion,
    host: argoCdHost(env)!,
    ingressClassName: ingress.controller === "existing" ? ingress.className : BUNDLED_INGRESS_CLASS,
    issuer,
    ...(a.sso
      ? {
          sso: {
            issuer: a.sso.issuer ?? `https://${hostNames(env).web}`,
            clientId: a.sso.clientId,
            clientSecret: vars.variable(a.sso.clientSecret.terraformVariable),
            adminEmails: a.sso.adminEmails,
          },
        }
      : {}),
    application: {
      name: a.application.name,
      repoUrl: a.application.repoUrl,
      path: a.application.path,
      targetRevision: a.application.targetRevision,
      destinationNamespace: a.application.namespace,
    },
  };
}
