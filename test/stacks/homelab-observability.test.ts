// Observability wired into the homelab stack: what Prometheus scrapes, how Grafana is reached.
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleStack, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

const stack = exampleStack("homelab");
const container = (s: typeof stack, name: string) => resources(s, "docker_container").find((c) => c.name === name);
const upload = (c: any, file: string) => unescapeTemplate(c.upload.find((u: any) => u.file === file).content as string);
const scrape = (s: typeof stack) =>
  Object.fromEntries(
    parse(upload(container(s, "prometheus"), "/etc/prometheus/prometheus.yml")).scrape_configs.map((j: any) => [j.job_name, j.static_configs[0].targets]),
  );

describe("homelab observability", () => {
  it("scrapes GitLab's exporters, the runners and Traefik on the private network", () => {
    expect(scrape(stack)).toMatchObject({
      "gitlab-rails": ["gitlab.home.example.com:443"], // over HTTPS, through Traefik
      "gitlab-sidekiq": ["gitlab:8082"],
      "gitlab-node": ["gitlab:9100"],
      "gitlab-exporter": ["gitlab:9168"],
      "gitlab-redis": ["gitlab:9121"],
      "gitlab-postgres": ["gitlab:9187"],
      "gitlab-runner": ["gitlab-runner-build:9252", "gitlab-runner-deploy:9252"],
      traefik: ["traefik:8082"],
    });
  });

  it("does not scrape a bundled PostgreSQL that an external database replaced", () => {
    const c = exampleYaml("homelab");
    c.gitlab.externalDatabase = { host: "db.example.com", password: { hostFile: "gitlab_db_password" } };
    expect(scrape(synthEnvironment(validEnvironment(c, "homelab")))["gitlab-postgres"]).toBeUndefined();
  });

  it("reaches Grafana only through Traefik, with its admin password from its host file", () => {
    const routes = parse(upload(container(stack, "traefik"), "/etc/traefik/dynamic/routes.yml"));
    expect(routes.http.services.grafana.loadBalancer.servers).toEqual([{ url: "http://grafana:3000" }]);
    expect(container(stack, "grafana").ports).toBeUndefined();
    expect(container(stack, "grafana").env).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password");
    expect(stack.output.grafana_url.value).toBe("https://grafana.home.example.com");
  });

  it("sends alerts to the configured e-mail receiver", () => {
    const am = parse(upload(container(stack, "alertmanager"), "/etc/alertmanager/alertmanager.yml"));
    expect(JSON.stringify(am.receivers)).toContain("ops@example.com");
  });

  it("logs in to the example's relay on 587 with the password from its host file", () => {
    const am = container(stack, "alertmanager");
    expect(parse(upload(am, "/etc/alertmanager/alertmanager.yml")).receivers[0].email_configs[0]).toMatchObject({
      smarthost: "smtp.example.com:587",
      auth_username: "alertmanager@example.com",
      auth_password_file: "/run/secrets/alertmanager_smtp_password",
      require_tls: true,
    });
    expect(am.mounts).toEqual([
      { type: "bind", source: "/srv/gitlab/secrets/alertmanager_smtp_password", target: "/run/secrets/alertmanager_smtp_password", read_only: true },
    ]);
  });

  it("keeps the webhook URL out of alertmanager.yml when a webhook receives alerts", () => {
    const c = exampleYaml("homelab");
    c.observability.alertReceiver = { webhook: { url: { hostFile: "alert_webhook_url" } } };
    const s = synthEnvironment(validEnvironment(c, "homelab"));
    const am = container(s, "alertmanager");
    expect(upload(am, "/etc/alertmanager/alertmanager.yml")).toContain("url_file: /run/secrets/alert_webhook_url");
    expect(am.mounts[0].source).toBe("/srv/gitlab/secrets/alert_webhook_url");
  });
});
