// cert-manager's ClusterIssuer: Let's Encrypt certificates by DNS-01 through Cloudflare (the
// docker platform's Traefik does the same), so nothing has to reach the cluster on port 80
// and a homelab behind NAT gets certificates too.
import type { SecretKeyRef } from "../helm/values";
import type { KubernetesManifest } from "./manifest";

export const LETSENCRYPT = {
  production: "https://acme-v02.api.letsencrypt.org/directory",
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

export interface ClusterIssuerSettings {
  readonly name: string;
  readonly email: string;
  readonly staging: boolean;
  /** Cloudflare API token (Zone:DNS:Edit), in cert-manager's own namespace. */
  readonly cloudflareToken: SecretKeyRef;
  /** Zones this issuer answers challenges for. */
  readonly dnsZones: readonly string[];
}

export function clusterIssuer(s: ClusterIssuerSettings): KubernetesManifest {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: s.name },
    spec: {
      acme: {
        email: s.email,
        server: s.staging ? LETSENCRYPT.staging : LETSENCRYPT.production,
        privateKeySecretRef: { name: `${s.name}-account-key` },
        solvers: [
          {
            selector: { dnsZones: [...s.dnsZones] },
            dns01: { cloudflare: { apiTokenSecretRef: { name: s.cloudflareToken.secret, key: s.cloudflareToken.key } } },
          },
        ],
      },
    },
  };
}
