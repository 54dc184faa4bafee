// Host names, ingress, TLS by cert-manager and git SSH through GitLab Shell's own Service
// (the ingress controller carries only HTTP(S); SSH needs its own port).
import type { HelmValues } from "../values";
import type { ChartEndpoints } from "./model";

const ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";

/** The TLS Secret cert-manager fills for GitLab's Ingress; named so a reader of the cluster finds it. */
export const WEB_TLS_SECRET = "gitlab-web-tls";

function hosts(e: ChartEndpoints): HelmValues {
  return {
    domain: e.hosts.domain,
    https: true,
    gitlab: { name: e.hosts.gitlab },
    ...(e.hosts.registry ? { registry: { name: e.hosts.registry } } : {}),
    ssh: e.hosts.ssh,
    ...(e.ingress.controller === "bundled" && e.ingress.loadBalancerIP ? { externalIP: e.ingress.loadBalancerIP } : {}),
  };
}

function ingress(e: ChartEndpoints): HelmValues {
  // The bundled controller's class is the chart's own default (gitlab-nginx).
  const className = e.ingress.controller === "existing" ? e.ingress.className : undefined;
  return {
    enabled: true,
    class: className,
    // The chart's annotations follow its provider; Traefik (k3s) needs none of nginx's.
    provider: className === "traefik" ? "traefik" : "nginx",
    // Our ClusterIssuer (DNS-01 through Cloudflare), not the chart's HTTP-01 Issuer.
    configureCertmanager: false,
    annotations: { [ISSUER_ANNOTATION]: e.clusterIssuer },
    tls: { enabled: true },
  };
}

/** global.hosts, global.ingress, global.shell, GitLab's TLS Secret and GitLab Shell's Service. */
export function endpointValues(e: ChartEndpoints): HelmValues {
  if (!Number.isInteger(e.sshPort) || e.sshPort < 1 || e.sshPort > 65535) throw new Error(`git SSH port ${e.sshPort} is not a TCP port`);
  return {
    global: { hosts: hosts(e), ingress: ingress(e), shell: { port: e.sshPort } },
    installCertmanager: false,
    "nginx-ingress": { enabled: e.ingress.controller === "bundled" },
    gitlab: {
      webservice: { ingress: { tls: { secretName: WEB_TLS_SECRET } } },
      "gitlab-shell": {
        service: { type: "LoadBalancer", ...(e.sshLoadBalancerIP ? { loadBalancerIP: e.sshLoadBalancerIP } : {}) },
      },
    },
  };
}
