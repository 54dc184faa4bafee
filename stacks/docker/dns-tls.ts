// DNS and TLS props on the docker platform: Traefik at its fixed address routes each host name
// to the container that serves it (GitLab, its registry vhost, Grafana) with one wildcard
// certificate; Cloudflare records point at the host.
import type { DockerDnsTlsProps } from "../../constructs/dns-tls/docker";
import type { DockerGitLabServer } from "../../constructs/gitlab-server/docker";
import type { DockerObservability } from "../../constructs/observability/docker";
import type { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import type { DockerRegistry } from "../../constructs/registry/docker";
import type { TraefikRoute } from "../../userdata/traefik/traefik-config";
import { hostNames } from "../host-names";
import type { DockerEnvironment, HostSecretFiles } from "./environment";

export interface RoutedServices {
  readonly gitlab: DockerGitLabServer;
  readonly registry: DockerRegistry | undefined;
  readonly observability: DockerObservability;
}

export function routes(env: DockerEnvironment, services: RoutedServices): TraefikRoute[] {
  const hosts = hostNames(env);
  const grafana = services.observability.route;
  return [
    services.gitlab.route("gitlab", hosts.web),
    ...(services.registry ? [services.registry.route(services.gitlab)] : []),
    { ...grafana, ...(env.observability.grafanaAllowFrom ? { allowFrom: env.observability.grafanaAllowFrom } : {}) },
  ];
}

export function dnsTlsProps(
  env: DockerEnvironment,
  parts: { readonly network: DockerPrivateNetwork; readonly secrets: HostSecretFiles; readonly routes: readonly TraefikRoute[] },
): DockerDnsTlsProps {
  return {
    network: parts.network.network,
    address: parts.network.traefikAddress,
    dataRoot: env.docker.dataRoot,
    image: env.docker.images.traefik,
    domain: env.domain,
    acmeEmail: env.tls.acmeEmail,
    acmeStaging: env.tls.acmeStaging,
    dnsApiToken: parts.secrets.file(env.tls.dnsApiToken),
    zoneId: env.dns.zoneId,
    publicAddress: env.docker.publicAddress,
    proxied: env.dns.proxied,
    routes: parts.routes,
    dnsOnlyHosts: [{ id: "git-ssh", name: hostNames(env).ssh }],
  };
}
