import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { TerraformStack, TerraformVariable, Testing } from "cdktf";
import { DEPLOY_RUNNER_CONTAINER_NAME, DockerRunners, RUNNER_TOKEN_FILE } from "../../constructs/runner-fleet/docker";
import { dockerRunnersSection } from "../../config/schema/docker";
import { hostScript } from "../../userdata/host-scripts";
import type { Environment } from "../../config/load";
import { exampleStack, exampleYaml, resources, synthEnvironment, synthEnvironmentStacks, validEnvironment } from "../helpers";

const stack = exampleStack("homelab");
// The runner containers are the second stack's, beside their gitlab_user_runners.
const content = exampleStack("homelab-gitlab");
const contentOf = (env: Environment) => synthEnvironmentStacks(env)[`${env.name}-gitlab`]!;
const byName = (s: typeof stack, name: string) => resources(s, "docker_container").find((c) => c.name === name);
const upload = (c: any, file: string) => unescapeTemplate(c.upload.find((u: any) => u.file === file)?.content as string);
const runnerConfig = (c: any) => parse(upload(c, "/etc/gitlab-runner/config.toml.template")) as any;

describe("runners on docker", () => {
  const build = byName(content, "gitlab-runner-build");
  const deploy = byName(content, "gitlab-runner-deploy");

  it("build runner: docker executor, every job in a fresh container without Docker access by default", () => {
    const config = runnerConfig(build);
    expect(config.runners).toHaveLength(1);
    expect(config.runners[0]).toMatchObject({ executor: "docker", url: "https://gitlab.home.example.com", token: "@@RUNNER_TOKEN@@" });
    expect(config.runners[0].docker).toMatchObject({ image: "alpine:3.20", privileged: false, volumes: ["/cache"] });
    expect(config.concurrent).toBe(4);
  });

  it("build jobs reach GitLab and the registry through the Docker host's Traefik, not through the router", () => {
    expect(runnerConfig(build).runners[0].docker.extra_hosts).toEqual(["gitlab.home.example.com:host-gateway", "registry.home.example.com:host-gateway"]);
    const c = exampleYaml("homelab");
    c.registry = { enabled: false };
    const noRegistry = byName(contentOf(validEnvironment(c, "homelab")), "gitlab-runner-build");
    expect(runnerConfig(noRegistry).runners[0].docker.extra_hosts).toEqual(["gitlab.home.example.com:host-gateway"]);
  });

  it("build jobs get the host's Docker socket only when config asks for it", () => {
    const c = exampleYaml("homelab");
    c.runners.build.dockerAccess = "socket";
    const withSocket = byName(contentOf(validEnvironment(c, "homelab")), "gitlab-runner-build");
    expect(runnerConfig(withSocket).runners[0].docker.volumes).toEqual(["/cache", "/var/run/docker.sock:/var/run/docker.sock"]);
  });

  it("every build and deploy job setting in the YAML reaches the runners' config.toml unchanged", () => {
    const c = exampleYaml("homelab");
    c.runners.concurrent = 7;
    Object.assign(c.runners.build, { jobImage: "node:22-alpine", privileged: true, jobMemory: "3g", dns: ["8.8.8.8"] });
    c.runners.deploy.jobImage = "docker:27.3.1-cli";
    const s = contentOf(validEnvironment(c, "homelab"));
    const buildConfig = runnerConfig(byName(s, "gitlab-runner-build"));
    expect(buildConfig.concurrent).toBe(7);
    expect(buildConfig.runners[0].docker).toMatchObject({ image: "node:22-alpine", privileged: true, memory: "3g", dns: ["8.8.8.8"] });
    expect(runnerConfig(byName(s, "gitlab-runner-deploy")).runners[0].docker.image).toBe("docker:27.3.1-cli");
  });

  it("refuses a deploy runner without its token (an invariant the props' types cannot express)", () => {
    const settings = dockerRunnersSection.parse({ version: "18.5.0", build: {}, deploy: {} });
    const where = {
      namePrefix: "t",
      gitlabUrl: "https://gitlab.example.com",
      hostsViaDockerHost: [],
      defaultDeployJobImage: "docker:28.5.1-cli",
      deployBuildsDir: "/srv/d",
    };
    const add = (roles: readonly string[]) => {
      const stack = new TerraformStack(Testing.app(), "t");
      const token = (role: string) => new TerraformVariable(stack, role, { type: "string", sensitive: true }).stringValue;
      const tokens = { build: token("build"), ...(roles.includes("deploy") ? { deploy: token("deploy") } : {}) };
      return new DockerRunners(stack, "runners", { ...where, settings, network: { name: "gitlab" }, tokens });
    };
    expect(() => add(["build"])).toThrow(/deploy runner has no token/);
    expect(add(["build", "deploy"]).deployRunner).toBeDefined();
  });

  it("builds no image on the Docker host: every image is a stock, pinned one (docker_image.build needs the classic image store)", () => {
    for (const image of [...resources(stack, "docker_image"), ...resources(content, "docker_image")]) {
      expect(image.build, image.name).toBeUndefined();
      expect(image.name).toMatch(/:[\w][\w.-]*$|@sha256:[a-f0-9]{64}$/);
    }
    expect(deploy.image).toMatch(/^\$\{docker_image\./);
    expect(resources(content, "docker_image").map((i) => i.name)).toContain("gitlab/gitlab-runner:alpine-v18.5.0");
  });

  it("deploy runner: docker executor whose jobs get the host's Docker, one job at a time, unprivileged", () => {
    const config = runnerConfig(deploy);
    expect(config.concurrent).toBe(1);
    expect(config.runners[0]).toMatchObject({ executor: "docker" });
    expect(config.runners[0].docker).toMatchObject({ image: "docker:28.5.1-cli", privileged: false });
    expect(config.runners[0].docker.volumes).toContain("/var/run/docker.sock:/var/run/docker.sock");
    // The runner manager itself needs only the socket.
    expect(deploy.volumes).toEqual([{ host_path: "/var/run/docker.sock", container_path: "/var/run/docker.sock" }]);
  });

  it("deploy jobs keep their checkout at the same path on the host, so `docker compose` bind mounts resolve", () => {
    const runner = runnerConfig(deploy).runners[0];
    expect(runner.builds_dir).toBe("/srv/gitlab/deploy-builds");
    expect(runner.docker.volumes).toContain("/srv/gitlab/deploy-builds:/srv/gitlab/deploy-builds");
  });

  it("deploy jobs are not on the build jobs' filtered bridge: they may reach the LAN (Ansible)", () => {
    expect(runnerConfig(deploy).runners[0].docker.network_mode).toBe("gitlab-deploy-jobs");
    // The first stack makes the network, before the second stack's deploy runner exists.
    const network = resources(stack, "docker_network").find((n) => n.name === "gitlab-deploy-jobs");
    expect(network).toBeDefined();
    expect(network.labels).toContainEqual({ label: "gitlab-platform.keep", value: "true" });
  });

  it("each runner gets its own gitlab_user_runner's token as a root-only uploaded file, filled in at start", () => {
    const runners = content.resource.gitlab_user_runner ?? {};
    const role = (r: string) => Object.keys(runners).find((k) => k.startsWith(`runners_${r}_`));
    for (const [c, r] of [
      [build, "build"],
      [deploy, "deploy"],
    ] as const) {
      expect(c.env).toEqual([`RUNNER_TOKEN_FILE=${RUNNER_TOKEN_FILE}`]);
      expect(c.upload.find((u: any) => u.file === RUNNER_TOKEN_FILE)).toEqual({
        file: RUNNER_TOKEN_FILE,
        content: `\${gitlab_user_runner.${role(r)}.token}`,
        permissions: "0600",
      });
      // No host file any more: nothing to create by hand, nothing mounted.
      expect(c.mounts).toBeUndefined();
    }
    for (const c of [build, deploy]) {
      expect(c.entrypoint).toEqual(["/usr/local/bin/runner-entrypoint"]);
      expect(c.command).toEqual(["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"]);
      expect(upload(c, "/usr/local/bin/runner-entrypoint")).toBe(hostScript("runner-entrypoint.sh"));
    }
    expect(build.image).toMatch(/^\$\{docker_image\./);
  });

  it("the deploy runner's container is the one the apply guard protects", () => {
    expect(deploy.name).toBe(DEPLOY_RUNNER_CONTAINER_NAME);
  });

  it("there is no deploy runner (container, registration or jobs' network) without runners.deploy", () => {
    const c = exampleYaml("homelab");
    delete c.runners.deploy;
    const env = validEnvironment(c, "homelab");
    const s = contentOf(env);
    expect(byName(s, "gitlab-runner-deploy")).toBeUndefined();
    expect(Object.keys(s.resource.gitlab_user_runner ?? {})).toEqual([expect.stringMatching(/^runners_build_/)]);
    expect(resources(synthEnvironment(env), "docker_network").map((n) => n.name)).not.toContain("gitlab-deploy-jobs");
  });

  it("runners expose metrics on 9252 and are health-checked through them", () => {
    expect(runnerConfig(build).listen_address).toBe(":9252");
    expect(build.healthcheck.test).toEqual(["CMD-SHELL", "wget -q -O /dev/null http://localhost:9252/metrics || exit 1"]);
  });

  it("prunes what the runners leave every 6 hours, keeping the last 4 hours and a week of caches, from a crond scheduler", () => {
    const cleanup = byName(stack, "docker-cleanup");
    expect(cleanup.entrypoint).toEqual(["crond", "-f", "-d", "8"]);
    expect(upload(cleanup, "/etc/crontabs/root")).toContain("\n0 */6 * * * /usr/local/bin/docker-cleanup\n");
    expect(cleanup.env).toEqual(["CLEANUP_OLDER_THAN=4h", "CLEANUP_CACHE_OLDER_THAN=168h", "TZ=UTC"]);
    // The shared host's cleanup, not the reference AWS installation's broad prune of dedicated runner hosts.
    expect(upload(cleanup, "/usr/local/bin/docker-cleanup")).toBe(hostScript("runner-docker-cleanup.sh"));
  });
});
