// The reference homelab's deploy jobs run `docker compose up` with the host's Docker: a compose file's
// `./conf:/etc/app` is resolved by the job to $PWD/conf, and the daemon mounts that path from
// the HOST. So the job's checkout must exist at the same path on the host, or the daemon
// creates an empty directory there and the service starts without its configuration.
//
// On a real engine, a stand-in job container is created as the deploy runner would create it
// (the generated builds_dir and docker volumes, a homelab whose data root is a scratch
// directory); it writes conf/app.conf into its checkout, and a "service" container then
// bind-mounts $PWD/conf exactly as compose would ask the daemon to.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleYaml, resources, synthEnvironmentStacks, validEnvironment } from "../helpers";
import { BUSYBOX_IMAGE, describeWithDockerEngine, type DockerEngine } from "../support/docker-engine";

function deployRunner(dataRoot: string) {
  const c = exampleYaml("homelab");
  c.docker.dataRoot = dataRoot;
  const stack = synthEnvironmentStacks(validEnvironment(c, "homelab"))["homelab-gitlab"]!;
  const container = resources(stack, "docker_container").find((x) => x.name === "gitlab-runner-deploy");
  const template = unescapeTemplate(container.upload.find((u: any) => u.file === "/etc/gitlab-runner/config.toml.template").content);
  return (parse(template) as any).runners[0];
}

/** Runs a job's script in a container made like the runner makes it; returns the job's $PWD. */
function runJob(engine: DockerEngine, volumes: readonly string[], buildsDir: string, script: string): string {
  const workdir = `${buildsDir}/t0k3n/0/homelab/services`;
  engine.dockerOk([
    "run",
    "--rm",
    "--network",
    "none",
    // The socket is the engine's own here; the runner mounts the host's.
    ...volumes.filter((v) => !v.startsWith("/var/run/docker.sock")).flatMap((v) => ["-v", v]),
    "-v",
    `${engine.socket}:/var/run/docker.sock`,
    BUSYBOX_IMAGE,
    "sh",
    "-c",
    `mkdir -p ${workdir} && cd ${workdir} && ${script}`,
  ]);
  return workdir;
}

/** What a compose service sees of `./conf` when the job that ran `docker compose up` was in `pwd`. */
function serviceSees(engine: DockerEngine, pwd: string): string {
  return engine.docker(["run", "--rm", "--network", "none", "-v", `${pwd}/conf:/etc/app:ro`, BUSYBOX_IMAGE, "cat", "/etc/app/app.conf"]).stdout.trim();
}

describeWithDockerEngine("deploy jobs' docker compose bind mounts on a real engine", (engine) => {
  it("a service started from a deploy job mounts the job's own ./conf", () => {
    const dataRoot = join(engine().scratch, "srv-gitlab");
    mkdirSync(dataRoot);
    const runner = deployRunner(dataRoot);
    const pwd = runJob(engine(), runner.docker.volumes, runner.builds_dir, "mkdir -p conf && echo 'listen 8080' > conf/app.conf");
    expect(serviceSees(engine(), pwd)).toBe("listen 8080");
  }, 60_000);

  it("from a checkout that exists only inside the job's container, the service gets an empty directory", () => {
    // The shell executor inside the runner container kept checkouts in the container's own
    // filesystem (/home/gitlab-runner/builds): the same path does not exist on the host.
    const pwd = runJob(engine(), [], "/home/gitlab-runner/builds", "mkdir -p conf && echo 'listen 8080' > conf/app.conf");
    expect(serviceSees(engine(), pwd)).toBe("");
  }, 60_000);
});
