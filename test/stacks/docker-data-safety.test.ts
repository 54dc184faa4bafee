// Proof that the periodic Docker cleanup can never remove the platform's data on the
// docker platform: data lives in host bind mounts (which no prune removes), every platform
// container, network and volume carries the keep label the prune skips, and no job-facing
// container ever sees a data directory.
import { describe, expect, it } from "vitest";
import { KEEP_LABEL } from "../../constructs/docker-conventions";
import { exampleStack, resources } from "../examples";

const stack = exampleStack("homelab");
// The homelab's containers, both stacks' (the runners are homelab-gitlab's).
const containers = [...resources(stack, "docker_container"), ...resources(exampleStack("homelab-gitlab"), "docker_container")];
const DATA_ROOT = "/srv/gitlab";

describe("docker data safety", () => {
  it("keeps every persistent directory in a host bind mount or a labelled named volume, never an anonymous volume", () => {
    for (const c of containers) {
      for (const v of c.volumes ?? []) {
        expect(v.host_path ?? v.volume_name, `${c.name}: ${JSON.stringify(v)}`).toBeTruthy();
      }
    }
    const namedVolumes = resources(stack, "docker_volume");
    for (const v of namedVolumes) expect(v.labels).toContainEqual({ label: KEEP_LABEL, value: "true" });
  });

  it("labels every platform container and network so `docker system prune` skips them even when stopped", () => {
    for (const c of containers) expect(c.labels, c.name).toEqual([{ label: KEEP_LABEL, value: "true" }]);
    for (const n of resources(stack, "docker_network")) expect(n.labels).toContainEqual({ label: KEEP_LABEL, value: "true" });
  });

  it("holds GitLab's and the registry's data under the data root", () => {
    const gitlab = containers.find((c) => c.name === "gitlab");
    const paths = gitlab.volumes.map((v: any) => v.host_path);
    expect(paths).toEqual(expect.arrayContaining([`${DATA_ROOT}/gitlab/data`, `${DATA_ROOT}/gitlab/config`, `${DATA_ROOT}/registry`]));
  });

  it("never mounts a data directory into the cleanup or a runner (whose jobs are untrusted)", () => {
    for (const name of ["docker-cleanup", "gitlab-runner-build", "gitlab-runner-deploy"]) {
      const c = containers.find((x) => x.name === name);
      const mounted = (c.volumes ?? []).map((v: any) => v.host_path);
      expect(mounted, name).toEqual(["/var/run/docker.sock"]);
    }
  });

  it("a plan never deletes a stopped container (the restore stops GitLab and the backup scheduler)", () => {
    // must_run = true (the provider's default) makes every refresh delete a container it finds
    // stopped: kreuzwerker/docker v3.6.2 resourceDockerContainerRead → resourceDockerContainerDelete.
    for (const c of containers) expect(c.must_run, c.name).toBe(false);
  });

  it("mounts the NFS share only into the backup scheduler, so GitLab keeps running when the NAS is down", () => {
    const [nfs] = resources(stack, "docker_volume");
    expect(nfs.driver_opts.type).toBe("nfs");
    const users = containers.filter((c) => (c.volumes ?? []).some((v: any) => v.volume_name)).map((c) => c.name);
    expect(users).toEqual(["gitlab-backup-scheduler"]);
  });
});
