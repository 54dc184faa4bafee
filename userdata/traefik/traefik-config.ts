// Renders Traefik's static configuration and its file-provider routes. Traefik gets every
// route from a file we write, not from the Docker socket: it never needs host access.
import { stringify } from "yaml";

export interface TraefikRoute {
  /** Router name, e.g. 'gitlab'. */
  readonly name: string;
  /** Host name the route answers, e.g. gitlab.example.com. */
  readonly host: string;
  /** Container name on the private network and its plain-HTTP port. */
  readonly containerName: string;
  readonly port: number;
  /** Only clients from these networks (CIDRs) get through; others get 403. @default anyone */
  readonly allowFrom?: readonly string[];
}

export interface TraefikStaticSettings {
  /** Let's Encrypt account e-mail. */
  readonly acmeEmail: string;
  readonly acmeStaging: boolean;
  /** The domain the wildcard certificate covers: <domain> and *.<domain>. */
  readonly domain: string;
  /** Where routes are read from, inside the container. */
  readonly dynamicDirectory: string;
  /** Where certificates are stored, inside the container (persisted). */
  readonly acmeStorage: string;
  /** Proxies whose X-Forwarded-For Traefik passes on (Cloudflare's, when proxied). @default none */
  readonly trustedProxies?: readonly string[];
}

/** Internal entry point for ping (healthcheck) and metrics; never published. */
export const TRAEFIK_INTERNAL_PORT = 8082;
const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

export function renderTraefikStatic(s: TraefikStaticSettings): string {
  const config = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    entryPoints: {
      web: {
        address: ":80",
        http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
      },
      websecure: {
        address: ":443",
        ...(s.trustedProxies?.length ? { forwardedHeaders: { trustedIPs: [...s.trustedProxies] } } : {}),
        // Large git pushes and image layers take longer than Traefik's 60 s default.
        transport: { respondingTimeouts: { readTimeout: "3600s", writeTimeout: "3600s", idleTimeout: "360s" } },
        http: {
          tls: { certResolver: "letsencrypt", domains: [{ main: s.domain, sans: [`*.${s.domain}`] }] },
        },
      },
      internal: { address: `:${TRAEFIK_INTERNAL_PORT}` },
    },
    ping: { entryPoint: "internal" },
    metrics: { prometheus: { entryPoint: "internal" } },
    api: { dashboard: false },
    log: { level: "INFO" },
    accessLog: {},
    providers: { file: { directory: s.dynamicDirectory, watch: true } },
    certificatesResolvers: {
      letsencrypt: {
        acme: {
          email: s.acmeEmail,
          storage: s.acmeStorage,
          ...(s.acmeStaging ? { caServer: LETS_ENCRYPT_STAGING } : {}),
          dnsChallenge: { provider: "cloudflare", resolvers: ["1.1.1.1:53", "1.0.0.1:53"] },
        },
      },
    },
  };
  return stringify(config);
}

/**
 * The routes, each served with the one certificate for `domain` and `*.domain`. A router's own
 * `tls` replaces the entry point's, so each router names the wildcard's domains itself;
 * without them Traefik would request one certificate per host name instead.
 */
export function renderTraefikRoutes(routes: readonly TraefikRoute[], domain: string): string {
  const names = routes.map((r) => r.name);
  if (new Set(names).size !== names.length) throw new Error(`duplicate Traefik route names: ${names.join(", ")}`);
  const routers: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  for (const r of routes) {
    if (!/^[a-z0-9.-]+$/.test(r.host)) throw new Error(`invalid host name '${r.host}' for route ${r.name}`);
    if (!(r.host === domain || (r.host.endsWith(`.${domain}`) && !r.host.slice(0, -domain.length - 1).includes(".")))) {
      throw new Error(`route ${r.name}: host ${r.host} is not covered by the certificate for ${domain} and *.${domain}`);
    }
    const tls = { certResolver: "letsencrypt", domains: [{ main: domain, sans: [`*.${domain}`] }] };
    const allowList = r.allowFrom?.length ? `${r.name}-allow-list` : undefined;
    if (allowList) middlewares[allowList] = { ipAllowList: { sourceRange: [...(r.allowFrom ?? [])] } };
    routers[r.name] = { rule: `Host(\`${r.host}\`)`, entryPoints: ["websecure"], service: r.name, tls, ...(allowList ? { middlewares: [allowList] } : {}) };
    services[r.name] = { loadBalancer: { servers: [{ url: `http://${r.containerName}:${r.port}` }], passHostHeader: true } };
  }
  return stringify({ http: { routers, services, ...(Object.keys(middlewares).length ? { middlewares } : {}) } });
}
