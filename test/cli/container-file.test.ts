// The automation token read out of the GitLab container without a docker CLI, through the
// Engine API on the socket (the pipeline's deploy jobs), against a real Docker engine.
import { beforeAll, describe, expect, it } from "vitest";
import { engineSocket, readContainerFile } from "../../cli/container-file";
import { tokenFromContainer } from "../../cli/gitlab-access";
import { AUTOMATION_TOKEN_CONTAINER_PATH } from "../../constructs/gitlab-server/docker-names";
import { BUSYBOX_IMAGE, describeWithDockerEngine } from "../support/docker-engine";

describe("engineSocket", () => {
  it("is DOCKER_HOST's unix socket, Docker's default without one, and none for ssh:// or tcp://", () => {
    expect(engineSocket({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" })).toBe("/run/user/1000/docker.sock");
    expect(engineSocket({})).toBe("/var/run/docker.sock");
    expect(engineSocket({ DOCKER_HOST: "ssh://deploy@homelab" })).toBeUndefined();
    expect(engineSocket({ DOCKER_HOST: "tcp://10.0.0.5:2376" })).toBeUndefined();
  });
});

describeWithDockerEngine("reading the automation token through the Engine API", (engine) => {
  const start = (name: string, script: string) =>
    engine().dockerOk(["run", "-d", "--name", name, "--network", "none", BUSYBOX_IMAGE, "sh", "-c", `${script}; exec sleep 600`]);

  // Only read from: one container with the token file, one without, for every test.
  beforeAll(() => {
    start(
      "gitlab-a",
      `mkdir -p /etc/gitlab/gitlab-platform && printf 'test-token-0123\\n' > ${AUTOMATION_TOKEN_CONTAINER_PATH} && chmod 600 ${AUTOMATION_TOKEN_CONTAINER_PATH}`,
    );
    start("gitlab-b", "true");
  }, 60_000);

  it("reads the file's content from the running container", async () => {
    expect(await readContainerFile(engine().socket, "gitlab-a", AUTOMATION_TOKEN_CONTAINER_PATH)).toBe("test-token-0123\n");
  }, 60_000);

  it("says what is missing: the file (not written yet) or the container", async () => {
    await expect(readContainerFile(engine().socket, "gitlab-b", AUTOMATION_TOKEN_CONTAINER_PATH)).rejects.toThrow(
      /no such file or directory|Could not find the file/i,
    );
    await expect(readContainerFile(engine().socket, "nobody", AUTOMATION_TOKEN_CONTAINER_PATH)).rejects.toThrow(/No such container: nobody/);
  }, 60_000);

  it("tokenFromContainer falls back to it when there is no docker CLI", async () => {
    const saved = { DOCKER: process.env.DOCKER, DOCKER_HOST: process.env.DOCKER_HOST };
    process.env.DOCKER = "docker-not-installed";
    process.env.DOCKER_HOST = engine().host;
    try {
      expect(await tokenFromContainer("gitlab-a")).toEqual({ token: "test-token-0123" });
      expect((await tokenFromContainer("gitlab-b")).problem).toMatch(
        /^\/etc\/gitlab\/gitlab-platform\/automation-token in the container gitlab-b, through \S+: /,
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 60_000);
});
