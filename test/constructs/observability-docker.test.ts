import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Testing } from "cdktf";
import type { Construct } from "constructs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hostSecretFile } from "../../constructs/docker-conventions";
import { DockerObservability, type DockerObservabilityProps } from "../../constructs/observability/docker";
import { extractArtifacts } from "../../scripts/verify/extract";
import { stackTemplateProblems } from "../../scripts/verify/terraform";
import { DASHBOARDS } from "../../userdata/monitoring/dashboards";
import type { SynthesizedStack } from "../helpers";

const IMAGES = { prometheus: "prom/prometheus:v3.7.3", alertmanager: "prom/alertmanager:v0.28.1", grafana: "grafana/grafana:12.2.1" };

type Overrides = Partial<Omit<DockerObservabilityProps, "network" | "grafanaAdminPassword">> & {
  /** Replaces the receiver with a webhook whose URL is in the host file alertmanager_webhook_url. */
  webhook?: boolean;
  /** Gives the e-mail receiver an SMTP login whose password is in the host file alertmanager_smtp_password. */
  smtpAuth?: boolean;
};

function synth(overrides: Overrides = {}): { stack: SynthesizedStack; construct: DockerObservability } {
  let construct: DockerObservability | undefined;
  const { webhook, smtpAuth, ...props } = overrides;
  const json = Testing.synthScope((scope: Construct) => {
    new DockerProvider(scope, "docker", {});
    const network = new Network(scope, "n", { name: "gitlab" });
    const auth = smtpAuth ? { auth: { username: "alertmanager@example.com", password: hostSecretFile("/srv/gitlab", "alertmanager_smtp_password") } } : {};
    construct = new DockerObservability(scope, "obs", {
      network,
      prometheusAddress: "172.30.0.253",
      dataRoot: "/srv/gitlab",
      domain: "example.com",
      images: IMAGES,
      retentionDays: 15,
      alertReceiver: webhook
        ? { webhookUrl: hostSecretFile("/srv/gitlab", "alertmanager_webhook_url") }
        : { email: { to: "ops@example.com", from: "alertmanager@example.com", smarthost: "smtp.example.com:587", ...auth } },
      grafanaAdminPassword: hostSecretFile("/srv/gitlab", "grafana_admin_password"),
      runnerTargets: ["gitlab-runner-build:9252", "gitlab-runner-deploy:9252"],
      backupMaxAgeHours: 26,
      gitlab: { containerName: "gitlab", httpPort: 80, hostDirs: { config: "/srv/gitlab/gitlab/config", data: "/srv/gitlab/gitlab/data" } },
      ...props,
    });
  });
  return { stack: JSON.parse(json), construct: construct as DockerObservability };
}

const { stack, construct } = synth();
const containers = Object.values(stack.resource.docker_container ?? {}) as any[];
const container = (name: string) => {
  const c = containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
};
const upload = (name: string, file: string): { content: string; permissions?: string } => {
  const u = container(name).upload.find((x: any) => x.file === file);
  if (!u) throw new Error(`no upload ${file} in ${name}`);
  return u;
};
/** An uploaded file as it lands in the container (Terraform undoes the $${ escapes). */
const fileText = (name: string, file: string) =>
  upload(name, file)
    .content.replace(/\$\$\{/g, "${")
    .replace(/%%\{/g, "%{");

describe("DockerObservability", () => {
  it("runs Prometheus, Alertmanager and Grafana from the pinned images", () => {
    expect(containers.map((c) => c.name).sort()).toEqual(["alertmanager", "grafana", "prometheus"]);
    const images = Object.values(stack.resource.docker_image ?? {}).map((i: any) => i.name);
    expect(images.sort()).toEqual(["grafana/grafana:12.2.1", "prom/alertmanager:v0.28.1", "prom/prometheus:v3.7.3"]);
    for (const c of containers) {
      expect(c.image).toMatch(/^\$\{docker_image\.[^.]+\.image_id\}$/);
      expect(c.restart).toBe("unless-stopped");
      expect(c.labels).toEqual([{ label: "gitlab-platform.keep", value: "true" }]);
      expect(c.networks_advanced).toEqual([{ name: "${docker_network.n.name}", ...(c.name === "prometheus" ? { ipv4_address: "172.30.0.253" } : {}) }]);
    }
  });

  it("refuses an unpinned image", () => {
    expect(() => synth({ images: { ...IMAGES, grafana: "grafana/grafana" } })).toThrow("grafana image 'grafana/grafana' must be pinned");
    expect(() => synth({ images: { ...IMAGES, prometheus: "prom/prometheus:latest" } })).toThrow("must be pinned");
  });

  it("publishes no port: Grafana is reached through Traefik, the rest only on the private network", () => {
    for (const c of containers) expect(c.ports, c.name).toBeUndefined();
    expect(construct.route).toEqual({ name: "grafana", host: "grafana.example.com", containerName: "grafana", port: 3000 });
    expect(construct.grafanaUrl).toBe("https://grafana.example.com");
    expect(synth({ grafanaHostname: "metrics" }).construct.route.host).toBe("metrics.example.com");
  });

  it("keeps data in host directories under the data root, never in Docker volumes", () => {
    expect(container("prometheus").volumes).toEqual([{ host_path: "/srv/gitlab/prometheus", container_path: "/prometheus" }]);
    expect(container("alertmanager").volumes).toEqual([{ host_path: "/srv/gitlab/alertmanager", container_path: "/alertmanager" }]);
    expect(container("grafana").volumes).toEqual([{ host_path: "/srv/gitlab/grafana", container_path: "/var/lib/grafana" }]);
    for (const c of containers) {
      for (const v of c.volumes) expect(v.volume_name, c.name).toBeUndefined();
      // Bind mounts only for secret files, read-only.
      for (const m of c.mounts ?? [])
        expect(m, c.name).toMatchObject({ type: "bind", source: expect.stringMatching(/^\/srv\/gitlab\/secrets\//), read_only: true });
    }
    expect(stack.resource.docker_volume).toBeUndefined();
    expect(construct.hostPaths).toEqual(["/srv/gitlab/prometheus", "/srv/gitlab/alertmanager", "/srv/gitlab/grafana"]);
  });

  it("runs as root with only DAC_OVERRIDE, so root-owned (or already chowned) bind mounts are writable without a manual chown", () => {
    for (const c of containers) {
      expect(c.user, c.name).toBe("0:0");
      expect(c.capabilities, c.name).toEqual({ drop: ["ALL"], add: ["DAC_OVERRIDE"] });
      expect(c.security_opts, c.name).toEqual(["no-new-privileges:true"]);
      expect(c.privileged, c.name).toBeUndefined();
    }
  });

  it("health-checks each service on its own endpoint with the image's wget", () => {
    expect(container("prometheus").healthcheck.test).toEqual(["CMD", "wget", "-q", "--spider", "http://127.0.0.1:9090/-/healthy"]);
    expect(container("alertmanager").healthcheck.test).toEqual(["CMD", "wget", "-q", "--spider", "http://127.0.0.1:9093/-/healthy"]);
    expect(container("grafana").healthcheck.test).toEqual(["CMD-SHELL", "wget -q --spider http://127.0.0.1:3000/api/health || exit 1"]);
  });

  it("gives Prometheus its config, storage path and retention from props", () => {
    expect(container("prometheus").command).toEqual([
      "--config.file=/etc/prometheus/prometheus.yml",
      "--storage.tsdb.path=/prometheus",
      "--storage.tsdb.retention.time=15d",
      "--web.listen-address=:9090",
    ]);
    expect(synth({ retentionDays: 90 }).stack.resource.docker_container!).toSatisfy((cs: Record<string, any>) =>
      Object.values(cs).some((c) => c.command?.includes("--storage.tsdb.retention.time=90d")),
    );
  });

  it("scrapes GitLab's exporters, the runners, and the monitoring stack itself, one job each", () => {
    const config = parse(fileText("prometheus", "/etc/prometheus/prometheus.yml"));
    const jobs = Object.fromEntries(config.scrape_configs.map((j: any) => [j.job_name, j.static_configs[0].targets]));
    expect(jobs).toEqual({
      prometheus: ["localhost:9090"],
      alertmanager: ["alertmanager:9093"],
      grafana: ["grafana:3000"],
      "gitlab-rails": ["gitlab:80"],
      "gitlab-workhorse": ["gitlab:9229"],
      "gitlab-sidekiq": ["gitlab:8082"],
      "gitlab-exporter": ["gitlab:9168"],
      "gitlab-node": ["gitlab:9100"],
      "gitlab-redis": ["gitlab:9121"],
      "gitlab-postgres": ["gitlab:9187"],
      "gitlab-registry": ["gitlab:5001"],
      "gitlab-runner": ["gitlab-runner-build:9252", "gitlab-runner-deploy:9252"],
    });
    expect(config.scrape_configs.find((j: any) => j.job_name === "gitlab-rails").metrics_path).toBe("/-/metrics");
    expect(construct.scrapeJobs.map((j) => j.name)).toEqual(Object.keys(jobs));
  });

  it("follows the GitLab container's name and leaves out exporters that do not run", () => {
    const { construct: c } = synth({
      gitlab: { containerName: "gitlab-ce", httpPort: 80, hostDirs: { config: "/c", data: "/d" } },
      scrapePostgres: false,
      scrapeRegistry: false,
      runnerTargets: [],
    });
    expect(c.scrapeJobs.find((j) => j.name === "gitlab-node")!.targets).toEqual(["gitlab-ce:9100"]);
    expect(c.scrapeJobs.map((j) => j.name)).not.toContain("gitlab-postgres");
    expect(c.scrapeJobs.map((j) => j.name)).not.toContain("gitlab-registry");
    expect(c.scrapeJobs.map((j) => j.name)).not.toContain("gitlab-runner");
  });

  it("uploads the alert rules with their unit tests beside them, where npm run verify checks both", () => {
    const rules = parse(fileText("prometheus", "/etc/prometheus/rules/gitlab.rules.yml"));
    expect(rules.groups[0].rules.map((r: any) => r.alert)).toContain("GitLabBackupTooOld");
    const tests = parse(fileText("prometheus", "/etc/prometheus/rules/gitlab.rules.test.yml"));
    expect(tests.rule_files).toEqual(["/etc/prometheus/rules/gitlab.rules.yml"]);
    const kinds = Object.fromEntries(extractArtifacts("t", stack).map((a) => [a.path, a.kind]));
    expect(kinds).toMatchObject({
      "/etc/prometheus/prometheus.yml": "prometheus-config",
      "/etc/prometheus/rules/gitlab.rules.yml": "prometheus-rules",
      "/etc/prometheus/rules/gitlab.rules.test.yml": "prometheus-rules-test",
      "/etc/alertmanager/alertmanager.yml": "alertmanager",
    });
  });

  it("mails alerts through the configured smarthost", () => {
    const am = parse(fileText("alertmanager", "/etc/alertmanager/alertmanager.yml"));
    expect(am.receivers[0].email_configs[0]).toMatchObject({ to: "ops@example.com", smarthost: "smtp.example.com:587" });
    expect(container("alertmanager").upload.map((u: any) => u.file)).toEqual(["/etc/alertmanager/alertmanager.yml"]);
    expect(container("alertmanager").command).toContain("--storage.path=/alertmanager");
  });

  it("delivers a webhook URL only from its host file, mounted read-only where alertmanager.yml points", () => {
    const { stack: s } = synth({ webhook: true });
    const am = Object.values(s.resource.docker_container!).find((c: any) => c.name === "alertmanager") as any;
    const config = am.upload.find((u: any) => u.file === "/etc/alertmanager/alertmanager.yml");
    expect(am.upload.map((u: any) => u.file)).toEqual(["/etc/alertmanager/alertmanager.yml"]);
    expect(am.mounts).toEqual([
      { type: "bind", source: "/srv/gitlab/secrets/alertmanager_webhook_url", target: "/run/secrets/alertmanager_webhook_url", read_only: true },
    ]);
    expect(parse(config.content).receivers[0].webhook_configs).toEqual([{ url_file: "/run/secrets/alertmanager_webhook_url", send_resolved: true }]);
    expect(s.variable).toBeUndefined();
    expect(am.env).toBeUndefined();
  });

  it("logs in to the smarthost with the SMTP password only from its host file", () => {
    const { stack: s } = synth({ smtpAuth: true });
    const am = Object.values(s.resource.docker_container!).find((c: any) => c.name === "alertmanager") as any;
    const config = am.upload.find((u: any) => u.file === "/etc/alertmanager/alertmanager.yml");
    expect(am.mounts).toEqual([
      { type: "bind", source: "/srv/gitlab/secrets/alertmanager_smtp_password", target: "/run/secrets/alertmanager_smtp_password", read_only: true },
    ]);
    expect(parse(config.content).receivers[0].email_configs[0]).toMatchObject({
      smarthost: "smtp.example.com:587",
      auth_username: "alertmanager@example.com",
      auth_password_file: "/run/secrets/alertmanager_smtp_password",
      require_tls: true,
    });
    expect(s.variable).toBeUndefined();
    expect(am.env).toBeUndefined();
    expect(stackTemplateProblems(s)).toEqual([]);
  });

  it("gives Grafana its admin password from its host file, no anonymous access, and its public URL", () => {
    const env: string[] = container("grafana").env;
    expect(env).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password");
    expect(container("grafana").mounts).toEqual([
      { type: "bind", source: "/srv/gitlab/secrets/grafana_admin_password", target: "/run/secrets/grafana_admin_password", read_only: true },
    ]);
    expect(env).toContain("GF_AUTH_ANONYMOUS_ENABLED=false");
    expect(env).toContain("GF_USERS_ALLOW_SIGN_UP=false");
    expect(env).toContain("GF_SERVER_ROOT_URL=https://grafana.example.com/");
    expect(env.filter((e) => e.startsWith("GF_AUTH_GENERIC_OAUTH_"))).toEqual([]);
    expect(stack.variable).toBeUndefined();
  });

  it("provisions the Prometheus data source and all five dashboards", () => {
    const ds = parse(fileText("grafana", "/etc/grafana/provisioning/datasources/gitlab-platform.yml"));
    expect(ds.datasources[0]).toMatchObject({ uid: "prometheus", url: "http://prometheus:9090", isDefault: true });
    const provider = parse(fileText("grafana", "/etc/grafana/provisioning/dashboards/gitlab-platform.yml"));
    expect(provider.providers[0].options.path).toBe("/etc/grafana/dashboards/gitlab");
    for (const name of DASHBOARDS) {
      const dashboard = JSON.parse(fileText("grafana", `/etc/grafana/dashboards/gitlab/${name}`));
      expect(dashboard.panels.length, name).toBeGreaterThan(0);
    }
    expect(DASHBOARDS).toHaveLength(5);
  });

  it("escapes the dashboards' ${…} variables so Terraform writes them out unchanged", () => {
    const raw = upload("grafana", "/etc/grafana/dashboards/gitlab/overview.json").content;
    expect(raw).toContain('"uid": "$${datasource}"');
    expect(raw).not.toMatch(/[^$]\$\{datasource\}/);
    expect(stackTemplateProblems(stack)).toEqual([]);
    expect(stackTemplateProblems(synth({ webhook: true }).stack)).toEqual([]);
  });
});
