import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { renderTraefikRoutes, renderTraefikStatic } from "../../userdata/traefik/traefik-config";

const settings = {
  acmeEmail: "ops@example.com",
  acmeStaging: false,
  domain: "example.com",
  dynamicDirectory: "/etc/traefik/dynamic",
  acmeStorage: "/letsencrypt/acme.json",
};

describe("Traefik static configuration", () => {
  const config = parse(renderTraefikStatic(settings));

  it("redirects HTTP to HTTPS permanently", () => {
    expect(config.entryPoints.web).toEqual({
      address: ":80",
      http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
    });
  });

  it("gets a wildcard certificate from Let's Encrypt by DNS-01 through Cloudflare", () => {
    expect(config.entryPoints.websecure.http.tls).toEqual({ certResolver: "letsencrypt", domains: [{ main: "example.com", sans: ["*.example.com"] }] });
    expect(config.certificatesResolvers.letsencrypt.acme).toEqual({
      email: "ops@example.com",
      storage: "/letsencrypt/acme.json",
      dnsChallenge: { provider: "cloudflare", resolvers: ["1.1.1.1:53", "1.0.0.1:53"] },
    });
    expect(parse(renderTraefikStatic({ ...settings, acmeStaging: true })).certificatesResolvers.letsencrypt.acme.caServer).toMatch(/acme-staging/);
  });

  it("reads routes from files only (no Docker socket), with no dashboard and long transfers allowed", () => {
    expect(config.providers).toEqual({ file: { directory: "/etc/traefik/dynamic", watch: true } });
    expect(config.api).toEqual({ dashboard: false });
    expect(config.entryPoints.websecure.transport.respondingTimeouts.readTimeout).toBe("3600s");
    expect(config.ping).toEqual({ entryPoint: "internal" });
  });
});

describe("Traefik routes", () => {
  const routes = parse(
    renderTraefikRoutes(
      [
        { name: "gitlab", host: "gitlab.example.com", containerName: "gitlab", port: 80 },
        { name: "grafana", host: "grafana.example.com", containerName: "grafana", port: 3000 },
      ],
      "example.com",
    ),
  );

  it("routes each host to its container over the private network", () => {
    expect(routes.http.routers.gitlab).toMatchObject({ rule: "Host(`gitlab.example.com`)", entryPoints: ["websecure"], service: "gitlab" });
    expect(routes.http.services.grafana).toEqual({ loadBalancer: { servers: [{ url: "http://grafana:3000" }], passHostHeader: true } });
  });

  it("asks for the one wildcard certificate on every router: a router's own tls replaces the entry point's domains", () => {
    // Without domains, Traefik requests one certificate per router for its Host rule (and
    // the entry point's wildcard is never requested): one certificate per host name, each
    // published in Certificate Transparency logs, each counting against Let's Encrypt's limits.
    for (const name of ["gitlab", "grafana"]) {
      expect(routes.http.routers[name].tls).toEqual({ certResolver: "letsencrypt", domains: [{ main: "example.com", sans: ["*.example.com"] }] });
    }
  });

  it("refuses duplicate names, hosts that could break the rule, and hosts the wildcard does not cover", () => {
    const r = { name: "a", host: "a.example.com", containerName: "a", port: 80 };
    expect(() => renderTraefikRoutes([r, r], "example.com")).toThrow(/duplicate Traefik route names/);
    expect(() => renderTraefikRoutes([{ ...r, host: "a.example.com`) || Host(`evil" }], "example.com")).toThrow(/invalid host name/);
    expect(() => renderTraefikRoutes([{ ...r, host: "a.b.example.com" }], "example.com")).toThrow(
      /not covered by the certificate for example.com and \*\.example\.com/,
    );
    expect(() => renderTraefikRoutes([{ ...r, host: "a.example.org" }], "example.com")).toThrow(/not covered/);
  });
});
