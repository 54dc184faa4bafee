// How Terraform reaches the homelab's Docker daemon. An explicit provider `host` would win over
// DOCKER_HOST everywhere: the pipeline's jobs could not choose theirs (the deploy runner's jobs
// have the host's socket; a merge request's plan has no daemon at all). So the stack names no
// host, and each caller sets its own: the socket by default, DOCKER_HOST=ssh://… from a
// workstation. The daemon check at provider start is off, so a plan without refresh (a merge
// request's) needs no daemon: kreuzwerker/docker v3.6.2 internal/provider/provider.go
// `configure` pings the daemon only unless disable_docker_daemon_check is set, and no resource
// type this stack uses has a plan-time CustomizeDiff that calls Docker.
import { describe, expect, it } from "vitest";
import { exampleStack, exampleYaml, problemsOf } from "../examples";

describe("the docker provider", () => {
  const provider = exampleStack("homelab").provider.docker[0];

  it("names no host: DOCKER_HOST, or the local socket, decides in each job and on each workstation", () => {
    expect(provider.host).toBeUndefined();
    expect(provider.context).toBeUndefined();
  });

  it("does not ping the daemon when it starts, so a plan without refresh needs no daemon", () => {
    expect(provider.disable_docker_daemon_check).toBe(true);
  });

  it("config says how to reach the daemon instead of docker.host", () => {
    const c = exampleYaml("homelab");
    c.docker.host = "ssh://deploy@gitlab-vm.example.com";
    expect(problemsOf(c, "homelab").join("\n")).toContain(
      "docker.host: no longer used: Terraform reaches the Docker daemon through DOCKER_HOST (the local socket when unset): on a workstation `export DOCKER_HOST=ssh://deploy@<host>`",
    );
  });
});
