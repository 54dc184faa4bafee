// The docker platform's constructs are joined by objects, not by names: backups exec into,
// Traefik routes to and Prometheus scrapes the GitLab container the stack creates, and a
// GitLab container with another name is followed by all of them.
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DockerBackups } from "../../constructs/backups/docker";
import { DockerGitLabServer } from "../../constructs/gitlab-server/docker";
import { DockerObservability } from "../../constructs/observability/docker";
import { DockerPrivateNetwork } from "../../constructs/private-network/docker";
import { dockerRegistry } from "../../constructs/registry/docker";
import { DockerRunnerFleet } from "../../constructs/runner-fleet/docker";
import { backupsProps } from "../../stacks/docker/backups";
import { routes } from "../../stacks/docker/dns-tls";
import { HostSecretFiles, type DockerEnvironment } from "../../stacks/docker/environment";
import { gitlabServerProps } from "../../stacks/docker/gitlab-server";
import { observabilityProps } from "../../stacks/docker/observability";
import { runnerFleetProps } from "../../stacks/docker/runner-fleet";
import type { TraefikRoute } from "../../userdata/traefik/traefik-config";
import { exampleEnvironment, resources, synthEnvironment, type SynthesizedStack } from "../helpers";

const containers = (stack: SynthesizedStack) => resources(stack, "docker_container");
const byName = (stack: SynthesizedStack, name: string) => containers(stack).find((c) => c.name === name);
const upload = (container: any, file: string): string => container.upload.find((u: any) => u.file === file).content;

/** What each consumer says GitLab's container is called. */
function gitlabAsConsumersSeeIt(traefikRoutes: string, prometheusYml: string, backupEnv: string[]) {
  const services = parse(traefikRoutes).http.services as Record<string, { loadBalancer: { servers: { url: string }[] } }>;
  const scrape = parse(prometheusYml).scrape_configs as { job_name: string; static_configs: { targets: string[] }[] }[];
  return {
    traefik: ["gitlab", "registry"].map((s) => new URL(services[s]!.loadBalancer.servers[0]!.url).hostname),
    prometheus: scrape.find((j) => j.job_name === "gitlab-node")!.static_configs[0]!.targets.map((t) => t.split(":")[0]),
    backups: backupEnv.filter((e) => e.startsWith("GITLAB_CONTAINER=")).map((e) => e.split("=")[1]),
  };
}

describe("docker: constructs are joined by objects", () => {
  it("backups, Traefik and Prometheus name the GitLab container the homelab stack creates", () => {
    const stack = synthEnvironment(exampleEnvironment("homelab"));
    const [, gitlab] = Object.entries(stack.resource.docker_container as Record<string, any>).find(([id]) => id.startsWith("gitlab-server_gitlab_container_"))!;
    expect(gitlab.name).toBe("gitlab");
    const seen = gitlabAsConsumersSeeIt(
      upload(byName(stack, "traefik"), "/etc/traefik/dynamic/routes.yml"),
      upload(byName(stack, "prometheus"), "/etc/prometheus/prometheus.yml"),
      byName(stack, "gitlab-backup-scheduler").env,
    );
    expect(seen).toEqual({ traefik: [gitlab.name, gitlab.name], prometheus: [gitlab.name], backups: [gitlab.name] });
  });

  it("a GitLab container with another name is followed by the registry route, the backups and the scrape targets", () => {
    // The stack's own mappings, with one change: GitLab's container is called gitlab-ce.
    const env = exampleEnvironment("homelab") as DockerEnvironment;
    let routed: TraefikRoute[] = [];
    const json = Testing.synthScope((scope) => {
      new DockerProvider(scope, "docker", {});
      const network = new DockerPrivateNetwork(scope, "network", { name: env.docker.networkName, cidr: env.docker.networkCidr });
      const secrets = new HostSecretFiles(env.docker.dataRoot);
      const registry = dockerRegistry({ host: "registry.home.example.com", dataRoot: env.docker.dataRoot });
      const gitlab = new DockerGitLabServer(scope, "gitlab-server", { ...gitlabServerProps(env, { network, secrets, registry }), containerName: "gitlab-ce" });
      new DockerBackups(scope, "backups", backupsProps(env, { network, gitlab }));
      const runners = new DockerRunnerFleet(scope, "runners", runnerFleetProps(env, { network }));
      const observability = new DockerObservability(scope, "observability", observabilityProps(env, { network, secrets, gitlab, runners }));
      routed = routes(env, { gitlab, registry, observability });
    });
    const stack = JSON.parse(json) as SynthesizedStack;
    expect(byName(stack, "gitlab-ce")).toBeDefined();
    expect(byName(stack, "gitlab")).toBeUndefined();
    expect(routed.map((r) => `${r.name} → ${r.containerName}:${r.port}`)).toEqual([
      "gitlab → gitlab-ce:80",
      "registry → gitlab-ce:80",
      "grafana → grafana:3000",
    ]);
    const backups = byName(stack, "gitlab-backup-scheduler");
    expect(backups.env).toContain("GITLAB_CONTAINER=gitlab-ce");
    const scrape = parse(upload(byName(stack, "prometheus"), "/etc/prometheus/prometheus.yml")).scrape_configs;
    expect(scrape.find((j: any) => j.job_name === "gitlab-node").static_configs[0].targets).toEqual(["gitlab-ce:9100"]);
  });
});
