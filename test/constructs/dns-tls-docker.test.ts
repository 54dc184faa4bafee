import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { CLOUDFLARE_IP_RANGES } from "../../constructs/dns-tls/cloudflare-ip-ranges";
import { exampleStack, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

const stack = exampleStack("homelab");
const containers = resources(stack, "docker_container");
const byName = (name: string) => containers.find((c) => c.name === name);
const traefik = byName("traefik");
const upload = (c: any, file: string) => c.upload.find((u: any) => u.file === file)?.content as string;

describe("DNS and TLS on docker", () => {
  it("Traefik is the only container on 80 and 443", () => {
    expect(traefik.ports).toEqual([
      { internal: 80, external: 80, protocol: "tcp" },
      { internal: 443, external: 443, protocol: "tcp" },
    ]);
    const published = containers.flatMap((c) => (c.ports ?? []).map((p: any) => `${c.name}:${p.external}`)).sort();
    expect(published).toEqual(["gitlab:2222", "traefik:443", "traefik:80"]);
  });

  it("Traefik gets its own DNS-only Cloudflare token from its host file and keeps certificates on the host", () => {
    expect(traefik.env).toEqual(["CF_DNS_API_TOKEN_FILE=/run/secrets/traefik_cloudflare_dns_token"]);
    expect(traefik.mounts).toEqual([
      { type: "bind", source: "/srv/gitlab/secrets/traefik_cloudflare_dns_token", target: "/run/secrets/traefik_cloudflare_dns_token", read_only: true },
    ]);
    // Terraform's token stays Terraform's.
    expect(stack.variable!.cloudflare_api_token).toEqual({ type: "string", sensitive: true, nullable: false });
    expect(traefik.volumes).toEqual([{ host_path: "/srv/gitlab/traefik/letsencrypt", container_path: "/letsencrypt" }]);
    expect(JSON.stringify(traefik)).not.toContain("docker.sock");
  });

  it("routes GitLab and the registry by host to GitLab's plain-HTTP nginx", () => {
    const routes = parse(upload(traefik, "/etc/traefik/dynamic/routes.yml"));
    expect(routes.http.routers.gitlab.rule).toBe("Host(`gitlab.home.example.com`)");
    expect(routes.http.routers.registry.rule).toBe("Host(`registry.home.example.com`)");
    expect(routes.http.services.gitlab.loadBalancer.servers).toEqual([{ url: "http://gitlab:80" }]);
    expect(routes.http.services.registry.loadBalancer.servers).toEqual([{ url: "http://gitlab:80" }]);
    const rb = upload(byName("gitlab"), "/etc/gitlab/gitlab.rb");
    expect(rb).toContain("registry_nginx['listen_port'] = 80");
  });

  it("GitLab trusts Traefik's fixed address as its proxy, and only Prometheus's may read metrics, never the whole network", () => {
    // The private network's gateway (172.30.0.1) is where build jobs arrive from, through
    // Docker's userland proxy on Traefik's published port.
    const ip = (name: string) => byName(name).networks_advanced[0].ipv4_address;
    expect(ip("traefik")).toBe("172.30.0.254");
    expect(ip("prometheus")).toBe("172.30.0.253");
    const rb = upload(byName("gitlab"), "/etc/gitlab/gitlab.rb");
    expect(rb).toContain("nginx['real_ip_trusted_addresses'] = [\n  '172.30.0.254/32'\n]");
    expect(rb).toContain("gitlab_rails['trusted_proxies'] = [\n  '172.30.0.254/32'\n]");
    expect(rb).toContain("gitlab_rails['monitoring_whitelist'] = [\n  '127.0.0.0/8',\n  '::1/128',\n  '172.30.0.253/32'\n]");
    expect(rb).not.toContain("172.30.0.0/24");
  });

  it("behind Cloudflare's proxy, Traefik and GitLab take the client's address from Cloudflare, and only from it", () => {
    const staticConfig = (st: typeof stack) =>
      parse(
        upload(
          resources(st, "docker_container").find((c) => c.name === "traefik"),
          "/etc/traefik/traefik.yml",
        ),
      );
    const rbOf = (st: typeof stack) =>
      upload(
        resources(st, "docker_container").find((c) => c.name === "gitlab"),
        "/etc/gitlab/gitlab.rb",
      );
    // DNS-only (the example): nothing is trusted beyond the private network.
    expect(staticConfig(stack).entryPoints.websecure.forwardedHeaders).toBeUndefined();
    const c = exampleYaml("homelab");
    c.dns.proxied = true;
    const proxied = synthEnvironment(validEnvironment(c, "homelab"));
    const trusted = staticConfig(proxied).entryPoints.websecure.forwardedHeaders.trustedIPs;
    expect(trusted).toEqual(CLOUDFLARE_IP_RANGES);
    expect(trusted).toContain("173.245.48.0/20");
    expect(trusted).toContain("2606:4700::/32");
    const rb = rbOf(proxied);
    expect(rb).toContain("nginx['real_ip_trusted_addresses'] = [\n  '172.30.0.254/32',\n  '173.245.48.0/20',");
    expect(rb).toContain("nginx['real_ip_recursive'] = 'on'");
  });

  it("creates records for GitLab, the registry, Grafana and git SSH; SSH is always DNS-only", () => {
    const records = Object.fromEntries(resources(stack, "cloudflare_dns_record").map((r) => [r.name, r]));
    expect(Object.keys(records).sort()).toEqual([
      "gitlab.home.example.com",
      "grafana.home.example.com",
      "registry.home.example.com",
      "ssh-gitlab.home.example.com",
    ]);
    for (const r of Object.values(records)) expect(r).toMatchObject({ type: "A", content: "192.0.2.10", ttl: 1, zone_id: "00000000000000000000000000000000" });
    expect(records["ssh-gitlab.home.example.com"].proxied).toBe(false);
    expect(records["gitlab.home.example.com"].proxied).toBe(false);

    const proxiedConfig = exampleYaml("homelab");
    proxiedConfig.dns.proxied = true;
    const proxied = Object.fromEntries(
      resources(synthEnvironment(validEnvironment(proxiedConfig, "homelab")), "cloudflare_dns_record").map((r) => [r.name, r.proxied]),
    );
    expect(proxied).toEqual({
      "gitlab.home.example.com": true,
      "grafana.home.example.com": true,
      "registry.home.example.com": true,
      "ssh-gitlab.home.example.com": false,
    });
  });

  it("configures the Cloudflare provider with the token variable only", () => {
    expect(stack.provider.cloudflare).toEqual([{ api_token: "${var.cloudflare_api_token}" }]);
  });
});
