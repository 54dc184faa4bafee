// The automation token on the kubernetes platform, as the examples synthesize it: the Ruby in
// a ConfigMap in GitLab's namespace (scripts/kubernetes-automation-token.sh runs it in the
// toolbox and writes the Secret), and no token, nor its Secret, in Terraform.
import { describe, expect, it } from "vitest";
import { AUTOMATION_TOKEN_K8S } from "../../constructs/gitlab-server/kubernetes";
import { renderAutomationTokenScript } from "../../userdata/automation-token";
import { exampleStack, resources } from "../examples";

describe.each(["cluster", "k3s-homelab"])("the automation token on kubernetes (%s)", (name) => {
  const stack = exampleStack(name);
  const namespace = resources(stack, "helm_release").find((r) => r.name === "gitlab").namespace;

  it("ships the Ruby in the ConfigMap gitlab-automation-token-script, in GitLab's namespace, after the namespace exists", () => {
    const maps = resources(stack, "kubernetes_config_map_v1").filter((m) => m.metadata.name === AUTOMATION_TOKEN_K8S.scriptConfigMap);
    expect(maps).toHaveLength(1);
    expect(maps[0].metadata.namespace).toBe(namespace);
    expect(maps[0].metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "gitlab-platform" });
    const ruby = maps[0].data[AUTOMATION_TOKEN_K8S.scriptKey] as string;
    expect(ruby.replaceAll("$${", "${").replaceAll("%%{", "%{")).toBe(renderAutomationTokenScript());
    expect(maps[0].depends_on).toEqual([expect.stringMatching(/^kubernetes_namespace_v1\./)]);
  });

  it("leaves the Secret to the script: Terraform never holds the token", () => {
    const secrets = [...resources(stack, "kubernetes_secret_v1"), ...resources(stack, "kubernetes_secret")];
    expect(secrets.filter((s) => s.metadata.name === AUTOMATION_TOKEN_K8S.secret)).toEqual([]);
  });
});
