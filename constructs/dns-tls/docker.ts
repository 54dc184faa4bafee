// TLS and DNS for the docker platform: Traefik is the only container on 80/443, redirects
// HTTP to HTTPS and gets a Let's Encrypt wildcard certificate by DNS-01 through Cloudflare;
// Cloudflare records point the host names at the Docker host.
import type { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { renderTraefikRoutes, renderTraefikStatic, TRAEFIK_INTERNAL_PORT, type TraefikRoute } from "../../userdata/traefik/traefik-config";
import { PlatformContainer, type HostSecretFile } from "../docker-conventions";
import { CLOUDFLARE_IP_RANGES } from "./cloudflare-ip-ranges";
import { CloudflareRecords } from "./records";

export interface DockerDnsTlsProps {
  readonly network: Network;
  /** Traefik's fixed address on the private network: GitLab trusts the client address it forwards, from it alone. */
  readonly address: string;
  /** Host directory for persistent data; certificates go to <dataRoot>/traefik. */
  readonly dataRoot: string;
  /** Pinned Traefik image. */
  readonly image: string;
  readonly domain: string;
  readonly acmeEmail: string;
  /** Use Let's Encrypt's staging CA. */
  readonly acmeStaging: boolean;
  /**
   * The host file holding Traefik's own Cloudflare token for DNS-01 (Zone:DNS:Edit and
   * Zone:Read on this zone): not Terraform's, since Traefik faces the internet.
   */
  readonly dnsApiToken: HostSecretFile;
  readonly zoneId: string;
  /** Address the records point at. */
  readonly publicAddress: string;
  /** Proxy the web host names through Cloudflare. */
  readonly proxied: boolean;
  /** HTTPS routes: host name → container and port on the private network. */
  readonly routes: readonly TraefikRoute[];
  /** Host names reached directly, never proxied (git over SSH), by record id. */
  readonly dnsOnlyHosts: readonly { readonly id: string; readonly name: string }[];
}

export class DockerDnsTls extends Construct {
  readonly traefik: PlatformContainer;
  readonly records: CloudflareRecords;
  /** Prometheus target of Traefik's own metrics. */
  readonly metricsTarget: string;

  constructor(scope: Construct, id: string, props: DockerDnsTlsProps) {
    super(scope, id);
    this.traefik = new PlatformContainer(this, "traefik", {
      name: "traefik",
      image: props.image,
      network: props.network,
      ipv4Address: props.address,
      secretFiles: [props.dnsApiToken],
      // In-flight requests (a long push) get time to finish.
      stopGraceSeconds: 30,
      // Every routed host name resolves to Traefik on the private network too, so runners,
      // Prometheus and GitLab itself reach https://<host> exactly as the outside does.
      aliases: props.routes.map((r) => r.host),
      files: [
        {
          path: "/etc/traefik/traefik.yml",
          content: renderTraefikStatic({
            acmeEmail: props.acmeEmail,
            acmeStaging: props.acmeStaging,
            domain: props.domain,
            dynamicDirectory: "/etc/traefik/dynamic",
            acmeStorage: "/letsencrypt/acme.json",
            // Proxied, every request arrives from Cloudflare: it names the client.
            ...(props.proxied ? { trustedProxies: CLOUDFLARE_IP_RANGES } : {}),
          }),
        },
        { path: "/etc/traefik/dynamic/routes.yml", content: renderTraefikRoutes(props.routes, props.domain) },
      ],
      container: {
        // lego (Traefik's ACME client) reads any of its variables from a file with _FILE.
        env: [`CF_DNS_API_TOKEN_FILE=${props.dnsApiToken.containerPath}`],
        ports: [
          { internal: 80, external: 80, protocol: "tcp" },
          { internal: 443, external: 443, protocol: "tcp" },
        ],
        volumes: [{ hostPath: `${props.dataRoot}/traefik/letsencrypt`, containerPath: "/letsencrypt" }],
        healthcheck: { test: ["CMD", "traefik", "healthcheck", "--ping"], interval: "30s", timeout: "5s", retries: 3 },
      },
    });
    this.metricsTarget = `traefik:${TRAEFIK_INTERNAL_PORT}`;

    this.records = new CloudflareRecords(this, "records", {
      zoneId: props.zoneId,
      address: props.publicAddress,
      records: [
        ...props.routes.map((r) => ({ id: r.name, name: r.host, proxied: props.proxied })),
        ...props.dnsOnlyHosts.map((h) => ({ ...h, proxied: false })),
      ],
    });
  }
}
