// A docker stack costs what its host costs, which the stack does not know: the report says
// what the host must give it instead (containers, their limits, ports, where data lives).
import { list, num, one, referenced, resourcesOf, type StackJson } from "./stack";

export interface ContainerNeeds {
  readonly name: string;
  readonly image: string;
  /** Memory limit in MB, or undefined when unlimited. */
  readonly memoryMb?: number;
  readonly cpus?: number;
  readonly ports: readonly string[];
  /** Host directories and named volumes it keeps data in. */
  readonly storage: readonly string[];
}

export interface DockerHostReport {
  /** The host's public address, as its DNS records give it (which daemon Terraform reaches is DOCKER_HOST's business). */
  readonly host?: string;
  readonly containers: readonly ContainerNeeds[];
  readonly publishedPorts: readonly string[];
  readonly hostDirectories: readonly string[];
  readonly volumes: readonly string[];
}

export function dockerHostReport(stack: StackJson, companions: readonly StackJson[] = []): DockerHostReport {
  // The host runs the containers of every stack of the environment (the runners are `<env>-gitlab`'s).
  const resources = [stack, ...companions].flatMap(resourcesOf);
  const containers = resources
    .filter((r) => r.type === "docker_container")
    .map((r): ContainerNeeds => {
      const image = referenced(resources, r.config.image);
      const memory = num(r.config.memory);
      const cpus = num(r.config.cpus);
      return {
        name: String(r.config.name),
        image: String(image?.config.name ?? r.config.image),
        ...(memory !== undefined ? { memoryMb: memory } : {}),
        ...(cpus !== undefined ? { cpus } : {}),
        ports: list(r.config.ports).map((p) => `${p.external ?? p.internal}/${p.protocol ?? "tcp"}`),
        storage: [
          ...list(r.config.volumes).map((v) => String(v.host_path ?? referenced(resources, v.volume_name)?.config.name ?? v.volume_name)),
          ...list(r.config.mounts)
            .filter((m) => m.type !== "tmpfs")
            .map((m) => String(m.source)),
        ].filter((s) => s !== "/var/run/docker.sock"),
      };
    });
  const hostDirectories = [...new Set(containers.flatMap((c) => c.storage.filter((s) => s.startsWith("/"))))].sort();
  const volumes = resources
    .filter((r) => r.type === "docker_volume")
    .map((r) => {
      const options = one(r.config.driver_opts) ?? r.config.driver_opts ?? {};
      return `${String(r.config.name)}${
        options.device
          ? ` (${String(options.type ?? "mount")} ${
              String(options.o ?? "")
                .split(",")
                .find((o) => o.startsWith("addr=")) ?? ""
            }:${String(options.device).replace(/^:/, "")})`
          : ""
      }`;
    });
  const host = resources.find((r) => r.type === "cloudflare_dns_record" && (r.config.type === "A" || r.config.type === "AAAA"))?.config.content;
  return {
    ...(typeof host === "string" ? { host } : {}),
    containers,
    publishedPorts: [...new Set(containers.flatMap((c) => c.ports))].sort((a, b) => parseInt(a, 10) - parseInt(b, 10)),
    hostDirectories,
    volumes,
  };
}
