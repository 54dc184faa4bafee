// DNS/TLS props: which names point where, and cert-manager's issuer.
import type { KubernetesDnsTlsProps } from "../../constructs/dns-tls/kubernetes";
import { hostNames } from "../host-names";
import type { KubernetesEnvironment } from "./environment";

export const issuerName = (env: KubernetesEnvironment) => `${env.name}-letsencrypt`;

export const argoCdHost = (env: KubernetesEnvironment) => (env.kubernetes.argocd.enabled ? `${env.kubernetes.argocd.hostname}.${env.domain}` : undefined);

export function dnsTlsProps(env: KubernetesEnvironment, cloudflareApiToken: string): KubernetesDnsTlsProps {
  const hosts = hostNames(env);
  const argocd = argoCdHost(env);
  return {
    zoneId: env.dns.zoneId,
    cloudflareApiToken,
    domain: env.domain,
    webAddress: env.kubernetes.loadBalancerAddress,
    sshAddress: env.kubernetes.sshLoadBalancerAddress ?? env.kubernetes.loadBalancerAddress,
    proxied: env.dns.proxied,
    webHosts: [
      { id: "gitlab", name: hosts.web },
      ...(hosts.registry ? [{ id: "registry", name: hosts.registry }] : []),
      ...(argocd ? [{ id: "argocd", name: argocd }] : []),
    ],
    sshHost: hosts.ssh,
    certManager: env.kubernetes.certManager,
    acme: { email: env.tls.acmeEmail, staging: env.tls.acmeStaging },
    issuerName: issuerName(env),
  };
}
