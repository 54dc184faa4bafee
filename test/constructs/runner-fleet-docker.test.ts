import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { DEPLOY_RUNNER_CONTAINER_NAME } from "../../constructs/runner-fleet/docker";
import { hostScript } from "../../userdata/host-scripts";
import { REPO_ROOT, exampleEnvironment, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

const stack = synthEnvironment(exampleEnvironment("homelab"));
const byName = (s: typeof stack, name: string) => resources(s, "docker_container").find((c) => c.name === name);
const upload = (c: any, file: string) => unescapeTemplate(c.upload.find((u: any) => u.file === file)?.content as string);
const runnerConfig = (c: any) => parse(upload(c, "/etc/gitlab-runner/config.toml.template")) as any;

describe("runners on docker", () => {
  const build = byName(stack, "gitlab-runner-build");
  const deploy = byName(stack, "gitlab-runner-deploy");

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
    const noRegistry = byName(synthEnvironment(validEnvironment(c, "homelab")), "gitlab-runner-build");
    expect(runnerConfig(noRegistry).runners[0].docker.extra_hosts).toEqual(["gitlab.home.example.com:host-gateway"]);
  });

  it("build jobs get the host's Docker socket only when config asks for it", () => {
    const c = exampleYaml("homelab");
    c.runners.build.dockerAccess = "socket";
    const withSocket = byName(synthEnvironment(validEnvironment(c, "homelab")), "gitlab-runner-build");
    expect(runnerConfig(withSocket).runners[0].docker.volumes).toEqual(["/cache", "/var/run/docker.sock:/var/run/docker.sock"]);
  });

  it("deploy runner: shell executor with the host's Docker CLI, built from the repo's Dockerfile, one job at a time", () => {
    const config = runnerConfig(deploy);
    expect(config.concurrent).toBe(1);
    expect(config.runners[0]).toMatchObject({ executor: "shell", shell: "bash" });
    expect(config.runners[0].docker).toBeUndefined();
    const image = resources(stack, "docker_image").find((i) => i.name === "gitlab-platform/deploy-runner:18.5.0");
    expect(image.build.build_args).toEqual({ RUNNER_VERSION: "18.5.0" });
    expect(image.build.context).toMatch(/^assets\//);
    expect(deploy.volumes).toEqual([{ host_path: "/var/run/docker.sock", container_path: "/var/run/docker.sock" }]);
  });

  it("each runner gets its own token from its own sensitive variable, filled in at start", () => {
    expect(build.env).toEqual(["RUNNER_TOKEN=${var.runner_token_build}"]);
    expect(deploy.env[0]).toBe("RUNNER_TOKEN=${var.runner_token_deploy}");
    for (const c of [build, deploy]) {
      expect(c.entrypoint).toEqual(["/usr/local/bin/runner-entrypoint"]);
      expect(c.command).toEqual(["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"]);
      expect(upload(c, "/usr/local/bin/runner-entrypoint")).toBe(hostScript("runner-entrypoint.sh"));
    }
    expect(build.image).toMatch(/^\$\{docker_image\./);
    expect(resources(stack, "docker_image").map((i) => i.name)).toContain("gitlab/gitlab-runner:alpine-v18.5.0");
  });

  it("only the deploy runner's jobs get the host's Docker socket: its entry point puts the job user in the socket's group", () => {
    expect(deploy.env).toContain("JOBS_USE_DOCKER_SOCKET=1");
    expect(build.env.filter((e: string) => e.startsWith("JOBS_USE_DOCKER_SOCKET"))).toEqual([]);
    expect(deploy.name).toBe(DEPLOY_RUNNER_CONTAINER_NAME);
  });

  it("deploy runner image has what the repository's own apply jobs need (node, npm, curl; busybox unzip/sha256sum)", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, "userdata/images/deploy-runner/Dockerfile"), "utf8");
    const apk = dockerfile.split("\n").find((l) => l.startsWith("RUN apk add --no-cache "));
    const packages = apk!.replace("RUN apk add --no-cache ", "").split(/\s+/);
    expect(packages).toEqual(expect.arrayContaining(["docker-cli", "docker-cli-compose", "bash", "git", "nodejs", "npm", "curl"]));
  });

  it("there is no deploy runner without a deploy token", () => {
    const c = exampleYaml("homelab");
    delete c.runners.deploy;
    const s = synthEnvironment(validEnvironment(c, "homelab"));
    expect(byName(s, "gitlab-runner-deploy")).toBeUndefined();
    expect(s.variable!.runner_token_deploy).toBeUndefined();
  });

  it("runners expose metrics on 9252 and are health-checked through them", () => {
    expect(runnerConfig(build).listen_address).toBe(":9252");
    expect(build.healthcheck.test).toEqual(["CMD-SHELL", "wget -q -O /dev/null http://localhost:9252/metrics || exit 1"]);
  });

  it("prunes Docker every 6 hours, keeping the last 4 hours, from a crond scheduler", () => {
    const cleanup = byName(stack, "docker-cleanup");
    expect(cleanup.entrypoint).toEqual(["crond", "-f", "-d", "8"]);
    expect(upload(cleanup, "/etc/crontabs/root")).toContain("\n0 */6 * * * /usr/local/bin/docker-cleanup\n");
    expect(cleanup.env).toEqual(["CLEANUP_OLDER_THAN=4h", "TZ=UTC"]);
    expect(upload(cleanup, "/usr/local/bin/docker-cleanup")).toBe(hostScript("docker-cleanup.sh"));
  });
});
