// The argo-cd chart's values: Argo CD behind the cluster's ingress with a
// cert-manager certificate, single sign-on through OpenID Connect (GitLab by default), admins
// by e-mail, everyone else read-only. The client secret is named ($secret:key), never written.
import { stringify } from "yaml";
import type { HelmValues, SecretKeyRef } from "./values";

export interface ArgoCdChartSettings {
  /** Argo CD's host name, e.g. argocd.example.com. */
  readonly host: string;
  readonly ingressClassName: string;
  readonly clusterIssuer: string;
  readonly sso?: {
    readonly issuer: string;
    readonly clientId: string;
    /** Must carry the label app.kubernetes.io/part-of: argocd for Argo CD to read it. */
    readonly clientSecret: SecretKeyRef;
    readonly adminEmails: readonly string[];
  };
}

function oidcConfig(sso: NonNullable<ArgoCdChartSettings["sso"]>): string {
  return stringify({
    name: "SSO",
    issuer: sso.issuer,
    clientID: sso.clientId,
    clientSecret: `$${sso.clientSecret.secret}:${sso.clientSecret.key}`,
    requestedScopes: ["openid", "profile", "email"],
  });
}

export function argoCdChartValues(s: ArgoCdChartSettings): HelmValues {
  const policy = s.sso?.adminEmails.map((email) => `g, ${email}, role:admin`).join("\n");
  return {
    global: { domain: s.host },
    configs: {
      cm: { url: `https://${s.host}`, ...(s.sso ? { "oidc.config": oidcConfig(s.sso) } : {}) },
      // TLS ends at the ingress controller.
      params: { "server.insecure": true },
      rbac: { "policy.default": "role:readonly", scopes: "[groups, email]", ...(policy ? { "policy.csv": `${policy}\n` } : {}) },
    },
    dex: { enabled: false },
    server: {
      ingress: { enabled: true, ingressClassName: s.ingressClassName, annotations: { "cert-manager.io/cluster-issuer": s.clusterIssuer }, tls: true },
    },
  };
}
