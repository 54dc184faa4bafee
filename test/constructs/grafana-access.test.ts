// Grafana faces the internet through Traefik: it signs people in through the same IdP as
// GitLab (the reference homelab: "removing a user from Authentik immediately revokes access across GitLab,
// Grafana…"), or, without SSO, Traefik lets only the LAN reach it.
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleYaml, problemsOf, resources, synthEnvironment, validEnvironment } from "../helpers";

type Config = Record<string, any>;
const synth = (c: Config) => resources(synthEnvironment(validEnvironment(c, "homelab")), "docker_container");
const env = (containers: any[], name: string) =>
  new Map<string, string>((containers.find((c) => c.name === name).env as string[]).map((e) => e.split(/=(.*)/s, 2) as [string, string]));
const routes = (containers: any[]) =>
  parse(unescapeTemplate(containers.find((c) => c.name === "traefik").upload.find((u: any) => u.file === "/etc/traefik/dynamic/routes.yml").content)).http;

function withoutSso(): Config {
  const c = exampleYaml("homelab");
  delete c.observability.grafanaSso;
  return c;
}

describe("Grafana with single sign-on", () => {
  const containers = synth(exampleYaml("homelab"));
  const g = env(containers, "grafana");

  it("signs in through the IdP with generic OAuth (PKCE), the client secret read from its host file", () => {
    expect(g.get("GF_AUTH_GENERIC_OAUTH_ENABLED")).toBe("true");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_NAME")).toBe("Authentik");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_CLIENT_ID")).toBe("grafana");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE")).toBe("/run/secrets/grafana_oauth_client_secret");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_AUTH_URL")).toBe("https://auth.example.com/application/o/authorize/");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_TOKEN_URL")).toBe("https://auth.example.com/application/o/token/");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_API_URL")).toBe("https://auth.example.com/application/o/userinfo/");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_SCOPES")).toBe("openid profile email");
    expect(g.get("GF_AUTH_GENERIC_OAUTH_USE_PKCE")).toBe("true");
    // The IdP is the gate: an IdP user allowed to the application gets an account.
    expect(g.get("GF_AUTH_GENERIC_OAUTH_ALLOW_SIGN_UP")).toBe("true");
    expect(g.get("GF_USERS_ALLOW_SIGN_UP")).toBe("false");
  });

  it("maps IdP groups to Grafana roles: admins, editors, everyone else a viewer", () => {
    expect(g.get("GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH")).toBe(
      "contains(groups[*], 'grafana-admins') && 'Admin' || contains(groups[*], 'grafana-editors') && 'Editor' || 'Viewer'",
    );
  });

  it("keeps the local admin's password form for when the IdP is down, and no LAN restriction is needed", () => {
    expect(g.get("GF_AUTH_DISABLE_LOGIN_FORM")).toBe("false");
    expect(routes(containers).routers.grafana.middlewares).toBeUndefined();
  });
});

describe("Grafana without single sign-on", () => {
  it("is reachable only from the networks config lists, through a Traefik allow-list", () => {
    const c = withoutSso();
    c.observability.grafanaAllowFrom = ["192.168.1.0/24"];
    const containers = synth(c);
    const http = routes(containers);
    expect(http.routers.grafana.middlewares).toEqual(["grafana-allow-list"]);
    expect(http.middlewares["grafana-allow-list"]).toEqual({ ipAllowList: { sourceRange: ["192.168.1.0/24"] } });
    expect(http.routers.gitlab.middlewares).toBeUndefined();
    expect(env(containers, "grafana").has("GF_AUTH_GENERIC_OAUTH_ENABLED")).toBe(false);
  });

  it("is refused by config with neither SSO nor an allow-list, or with an allow-list that would let build jobs in", () => {
    expect(problemsOf(withoutSso(), "homelab").join("\n")).toContain(
      "observability.grafanaAllowFrom: required without observability.grafanaSso: Grafana would face the internet with only its admin password",
    );
    const c = withoutSso();
    c.observability.grafanaAllowFrom = ["172.16.0.0/12"];
    expect(problemsOf(c, "homelab").join("\n")).toContain(
      "observability.grafanaAllowFrom: 172.16.0.0/12 overlaps docker.networkCidr (172.30.0.0/24), whose gateway build jobs reach Traefik from",
    );
    const proxied = withoutSso();
    proxied.observability.grafanaAllowFrom = ["192.168.1.0/24"];
    proxied.dns.proxied = true;
    expect(problemsOf(proxied, "homelab").join("\n")).toContain("observability.grafanaAllowFrom: cannot work behind Cloudflare's proxy");
  });
});
