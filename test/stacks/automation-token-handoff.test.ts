// The automation token crosses from the first stack (where GitLab's bootstrap stores it) to the
// second (whose GitLab provider reads it) by name only: both sides must name the same place.
import { describe, expect, it } from "vitest";
import { exampleStack, resources } from "../examples";

describe("the automation token's hand-over between the two stacks", () => {
  it.each(["staging", "production"])("aws (%s): the secret the first stack creates is the one the second reads", (name) => {
    const created = resources(exampleStack(name), "aws_secretsmanager_secret").map((s) => s.name);
    const read = Object.values(exampleStack(`${name}-gitlab`).data?.aws_secretsmanager_secret_version ?? {}).map((d: any) => d.secret_id);
    expect(read).toContain(`${name}-gitlab/automation-token`);
    expect(created).toContain(`${name}-gitlab/automation-token`);
  });

  it.each(["cluster", "k3s-homelab"])("kubernetes (%s): the Secret the first stack's command writes is the one the second reads", (name) => {
    const script = resources(exampleStack(name), "kubernetes_config_map_v1").find((c) => c.metadata.name === "gitlab-automation-token-script");
    expect(script).toBeDefined();
    const read = Object.values(exampleStack(`${name}-gitlab`).data?.kubernetes_secret_v1 ?? {}).map((d: any) => d.metadata.name);
    expect(read).toEqual(["gitlab-automation-token"]);
  });

  it("docker: the file the GitLab container stores it in is the one the CLI reads", async () => {
    const { AUTOMATION_TOKEN_CONTAINER_PATH } = await import("../../constructs/gitlab-server/docker-names");
    const gitlab = resources(exampleStack("homelab"), "docker_container").find((c) => c.name === "gitlab");
    expect(gitlab.env).toContain(`AUTOMATION_TOKEN_STORE=file:${AUTOMATION_TOKEN_CONTAINER_PATH}`);
  });
});
