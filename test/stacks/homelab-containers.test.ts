// The homelab's containers as deployed. On the private network, GitLab's public host names
// must lead where they lead from outside: to Traefik, which terminates TLS. GitLab's own
// nginx listens on plain HTTP only, so a name resolving to the GitLab container would break
// every runner. And every long-running container reports its health.
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exampleStack, resources } from "../examples";

const stack = exampleStack("homelab");
// The homelab's containers, both stacks' (the runners are homelab-gitlab's).
const containers = [...resources(stack, "docker_container"), ...resources(exampleStack("homelab-gitlab"), "docker_container")];
const byName = (name: string) => containers.find((c) => c.name === name);
const aliasesOf = (c: any): string[] => (c.networks_advanced ?? []).flatMap((n: any) => n.aliases ?? []);
const upload = (container: string, file: string): string => byName(container).upload.find((u: any) => u.file === file).content;
const runnerHosts = ["gitlab-runner-build", "gitlab-runner-deploy"].flatMap((name) => {
  const config = parseToml(upload(name, "/etc/gitlab-runner/config.toml.template")) as { runners: { url: string }[] };
  return config.runners.map((r) => new URL(r.url));
});

describe("host names on the private Docker network", () => {
  it("the runners talk to GitLab by its public https URL", () => {
    expect(runnerHosts.map((u) => u.href)).toEqual(["https://gitlab.home.example.com/", "https://gitlab.home.example.com/"]);
  });

  it("each runner URL's host is an alias of exactly one container, the one serving 443 (Traefik)", () => {
    for (const url of runnerHosts) {
      const owners = containers.filter((c) => aliasesOf(c).includes(url.hostname)).map((c) => c.name);
      expect(owners).toEqual(["traefik"]);
      expect(byName("traefik").ports).toContainEqual({ internal: 443, external: 443, protocol: "tcp" });
    }
  });

  it("gives Traefik every routed host name and the GitLab container none, not even as its hostname", () => {
    expect(aliasesOf(byName("traefik")).sort()).toEqual(["gitlab.home.example.com", "grafana.home.example.com", "registry.home.example.com"]);
    expect(aliasesOf(byName("gitlab"))).toEqual([]);
    // Docker puts a container's hostname in its /etc/hosts: GitLab calling its own URL would reach itself on 443.
    const publicNames = aliasesOf(byName("traefik"));
    expect(byName("gitlab").hostname).toBe("gitlab");
    for (const c of containers.filter((c) => c.hostname)) expect(publicNames, c.name).not.toContain(c.hostname);
  });

  it("scrapes Rails metrics over HTTPS by GitLab's host name, through Traefik", () => {
    const prometheus = parse(upload("prometheus", "/etc/prometheus/prometheus.yml"));
    const rails = prometheus.scrape_configs.find((j: any) => j.job_name === "gitlab-rails");
    expect(rails).toMatchObject({ scheme: "https", metrics_path: "/-/metrics", static_configs: [{ targets: ["gitlab.home.example.com:443"] }] });
  });
});

describe("container health on the homelab", () => {
  it("every long-running container has a healthcheck", () => {
    const without = containers.filter((c) => !c.healthcheck?.test?.length).map((c) => c.name);
    expect(without).toEqual([]);
  });

  it("the schedulers report unhealthy when crond or the Docker API is gone", () => {
    for (const name of ["gitlab-backup-scheduler", "docker-cleanup"]) {
      expect(byName(name).healthcheck.test).toEqual(["CMD-SHELL", "pgrep -x crond > /dev/null && docker version --format '{{.Server.Version}}' > /dev/null"]);
    }
  });
});
