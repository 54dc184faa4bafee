// The docker runners' config.toml comes from `runners` as config parsed it: the build jobs'
// container is the one every runner starts (jobContainer()) plus the shared host's keys, and
// the deploy jobs' is the host's Docker on their own network.
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { dockerRunnersSection } from "../../config/schema/docker";
import { buildJobContainer, buildRunnerConfigToml, type DockerRunnerConfigProps, deployRunnerConfigToml } from "../../userdata/docker-runner-config";
import { jobContainer } from "../../userdata/runner-job-container";

const BUILD = { jobImage: "node:22-alpine", privileged: true, dockerAccess: "socket", jobMemory: "2g", dns: ["9.9.9.9"] };
const settings = dockerRunnersSection.parse({ version: "18.5.0", concurrent: 3, build: BUILD, deploy: { jobImage: "docker:27.3.1-cli" } });
const props = (over: Partial<DockerRunnerConfigProps> = {}): DockerRunnerConfigProps => ({
  settings,
  namePrefix: "lab",
  gitlabUrl: "https://gitlab.example.com",
  hostsViaDockerHost: ["gitlab.example.com", "registry.example.com"],
  defaultDeployJobImage: "docker:28.5.1-cli",
  deployBuildsDir: "/srv/gitlab/deploy-builds",
  ...over,
});
const toml = (text: string) => parseToml(text) as any;

describe("the docker build runner's config.toml", () => {
  it("carries every build job setting as config parsed it", () => {
    const config = toml(buildRunnerConfigToml(props()));
    expect(config.concurrent).toBe(3);
    expect(config.listen_address).toBe(":9252");
    expect(config.runners).toHaveLength(1);
    expect(config.runners[0]).toMatchObject({
      name: "lab-docker-{hostname}",
      url: "https://gitlab.example.com",
      token: "@@RUNNER_TOKEN@@",
      executor: "docker",
    });
    expect(config.runners[0].docker).toMatchObject({
      image: "node:22-alpine",
      privileged: true,
      memory: "2g",
      dns: ["9.9.9.9"],
      volumes: ["/cache", "/var/run/docker.sock:/var/run/docker.sock"],
      extra_hosts: ["gitlab.example.com:host-gateway", "registry.example.com:host-gateway"],
    });
  });

  it("is the job container every runner starts, with the shared host's names and DNS added", () => {
    const { extraHosts, dns, ...shared } = buildJobContainer(props());
    expect(shared).toEqual(jobContainer({ jobImage: "node:22-alpine", privileged: true, dockerAccess: "socket", jobMemory: "2g" }));
    expect({ extraHosts, dns }).toEqual({ extraHosts: ["gitlab.example.com:host-gateway", "registry.example.com:host-gateway"], dns: ["9.9.9.9"] });
  });

  it("gives jobs no Docker socket, no memory limit and no extra hosts unless asked (the defaults)", () => {
    const defaults = dockerRunnersSection.parse({ version: "18.5.0", build: {} });
    const docker = toml(buildRunnerConfigToml(props({ settings: defaults, hostsViaDockerHost: [] }))).runners[0].docker;
    expect(docker).toMatchObject({ image: "alpine:3.20", privileged: false, volumes: ["/cache"], dns: ["1.1.1.1", "9.9.9.9"] });
    expect(docker.memory).toBeUndefined();
    expect(docker.cpus).toBeUndefined();
    expect(docker.extra_hosts).toBeUndefined();
  });
});

describe("the docker deploy runner's config.toml", () => {
  it("runs one job at a time with the host's Docker, on the deploy jobs' network, checked out at the host's path", () => {
    const config = toml(deployRunnerConfigToml(props()));
    expect(config.concurrent).toBe(1);
    expect(config.runners[0]).toMatchObject({ name: "lab-deploy-{hostname}", executor: "docker", builds_dir: "/srv/gitlab/deploy-builds" });
    expect(config.runners[0].docker).toMatchObject({
      image: "docker:27.3.1-cli",
      privileged: false,
      network_mode: "gitlab-deploy-jobs",
      volumes: ["/var/run/docker.sock:/var/run/docker.sock", "/srv/gitlab/deploy-builds:/srv/gitlab/deploy-builds", "/cache"],
      extra_hosts: ["gitlab.example.com:host-gateway", "registry.example.com:host-gateway"],
    });
  });

  it("uses the Docker CLI image when runners.deploy names no job image", () => {
    const noImage = dockerRunnersSection.parse({ version: "18.5.0", build: {}, deploy: {} });
    expect(toml(deployRunnerConfigToml(props({ settings: noImage }))).runners[0].docker.image).toBe("docker:28.5.1-cli");
  });

  it("is refused without runners.deploy", () => {
    const noDeploy = dockerRunnersSection.parse({ version: "18.5.0", build: {} });
    expect(() => deployRunnerConfigToml(props({ settings: noDeploy }))).toThrow(/runners\.deploy is not set/);
  });
});
