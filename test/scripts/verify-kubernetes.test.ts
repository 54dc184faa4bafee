// npm run verify on the kubernetes stacks: every Helm values document (with its chart) and
// every custom resource is extracted and checked, and the checks catch planted mistakes.
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { extractArtifacts } from "../../scripts/verify/extract";
import { checkHelmValues, checkKubernetesManifest, manifestShapeProblems } from "../../scripts/verify/kubernetes-checkers";
import { checkArtifacts } from "../../scripts/verify/dispatch";
import { hasTool, isStrict } from "../../scripts/verify/tools";
import { exampleEnvironment, resources, synthEnvironment, synthEnvironmentStacks } from "../helpers";

const without = (tool: string) => !isStrict() && !hasTool(tool);

describe("extraction from a kubernetes stack", () => {
  it("yields each release's values with its chart, the runner's config.toml, manifests and ConfigMap scripts, escapes undone", () => {
    const artifacts = extractArtifacts("k8s", {
      resource: {
        helm_release: {
          g: { chart: "gitlab", version: "9.9.1", values: ["global:\n  edition: ce\n"] },
          r: {
            chart: "gitlab-runner",
            version: "0.86.0",
            values: [stringify({ runners: { config: '[[runners]]\n[runners.kubernetes]\nimage = "alpine:3.20"\n' } })],
          },
        },
        kubernetes_manifest: { m: { manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: "$${HOME}" } } } },
        kubernetes_config_map_v1: { c: { data: { "run.sh": '#!/bin/sh\necho "$${HOME}"\n', "notes.txt": "x" } } },
      },
    });
    expect(artifacts.map((a) => [a.origin, a.kind])).toEqual([
      ["k8s: helm_release.g values[0] (gitlab 9.9.1)", "helm-values"],
      ["k8s: helm_release.r values[0] (gitlab-runner 0.86.0)", "helm-values"],
      ["k8s: helm_release.r values[0] (gitlab-runner 0.86.0) → runners.config", "toml"],
      ["k8s: kubernetes_manifest.m (ConfigMap)", "kubernetes-manifest"],
      ["k8s: kubernetes_config_map_v1.c data → run.sh", "shell"],
      ["k8s: kubernetes_config_map_v1.c data → notes.txt", "unchecked"],
    ]);
    expect(artifacts[0]!.chart).toEqual({ name: "gitlab", version: "9.9.1" });
    expect(JSON.parse(artifacts[3]!.content).data.a).toBe("${HOME}");
    expect(artifacts[4]!.content).toBe('#!/bin/sh\necho "${HOME}"\n');
  });

  it.each(["k3s-homelab", "cluster"])("%s: every values document and every manifest is extracted", (name) => {
    const stack = synthEnvironment(exampleEnvironment(name));
    const artifacts = extractArtifacts(name, stack);
    const valuesCount = resources(stack, "helm_release").reduce((n, r) => n + r.values.length, 0);
    expect(artifacts.filter((a) => a.kind === "helm-values")).toHaveLength(valuesCount);
    expect(artifacts.filter((a) => a.kind === "kubernetes-manifest")).toHaveLength(resources(stack, "kubernetes_manifest").length);
    expect(artifacts.filter((a) => a.kind === "unchecked")).toEqual([]);
  });
});

describe("checkHelmValues", () => {
  const gitlab = { name: "gitlab", version: "9.9.1" };
  it("passes known keys and fails an unknown one with its path", async () => {
    expect(await checkHelmValues("global:\n  hosts:\n    domain: example.com\n", gitlab)).toMatchObject({ status: "ok" });
    const bad = await checkHelmValues("global:\n  hosts:\n    domian: example.com\n", gitlab, "gitlab-values.yaml");
    expect(bad).toMatchObject({
      status: "FAIL",
      findings: ["gitlab-values.yaml: global.hosts.domian: not a key of the gitlab chart 9.9.1 (scripts/verify/reference/gitlab-chart-9.9.1.keys.txt)"],
    });
  });

  it("fails YAML with a duplicate key, and a chart it has no key list for", async () => {
    expect((await checkHelmValues("a: 1\na: 2\n", gitlab)).status).toBe("FAIL");
    expect(await checkHelmValues("a: 1\n", { name: "nginx", version: "1.0.0" }, "v.yaml")).toMatchObject({
      status: "FAIL",
      findings: [expect.stringMatching(/no key list for the nginx chart/)],
    });
  });

  it("parses the values of a chart whose key list the project does not hold, and says its keys went unchecked", async () => {
    expect(await checkHelmValues("crds:\n  enabled: true\n", { name: "cert-manager", version: "v1.21.1" })).toEqual({
      tool: "yaml parse",
      status: "ok",
      findings: [],
      notes: ["no key list of the cert-manager chart in scripts/verify/reference/: values parsed, keys not checked"],
    });
    expect((await checkHelmValues("crds: [\n", { name: "cert-manager", version: "v1.21.1" })).status).toBe("FAIL");
  });

  it("notes each key of a bundled subchart it could not check", async () => {
    expect(await checkHelmValues("redis:\n  master: {}\n", gitlab, "v.yaml")).toMatchObject({
      status: "ok",
      notes: ["v.yaml: redis.master: a key of the bundled bitnami/redis 18.19.4 subchart, whose key list the project does not hold: not checked"],
    });
  });

  it("checks another version of a known chart against the listed one, with a note", async () => {
    expect(await checkHelmValues("global:\n  edition: ce\n", { name: "gitlab", version: "9.8.4" })).toMatchObject({
      status: "ok",
      notes: ["no key list for gitlab 9.8.4: checked against 9.9.1's"],
    });
  });
});

describe("checkKubernetesManifest", () => {
  const issuer = { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "le" }, spec: { acme: {} } };

  it("checks apiVersion, kind, name, namespace and spec", () => {
    expect(manifestShapeProblems(issuer)).toEqual([]);
    expect(manifestShapeProblems({ apiVersion: "cert-manager.io", kind: "clusterIssuer", metadata: { name: "Le_1", namespace: "a.b" } })).toEqual([
      'apiVersion "cert-manager.io" is not group/version',
      'kind "clusterIssuer" is not a Kubernetes kind',
      'metadata.name "Le_1" is not a DNS-1123 name',
      'metadata.namespace "a.b" is not a DNS-1123 label',
      "spec is missing",
    ]);
  });

  it("fails what is not JSON", async () => {
    expect((await checkKubernetesManifest("{", "x.json")).status).toBe("FAIL");
    expect(await checkKubernetesManifest(JSON.stringify(issuer))).toMatchObject({ status: "ok", tool: "manifest shape" });
  });

  it.skipIf(without("promtool"))("sends a PrometheusRule's groups through promtool check rules", async () => {
    const rule = (expr: string) =>
      JSON.stringify({
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "r", namespace: "gitlab" },
        spec: { groups: [{ name: "g", rules: [{ alert: "A", expr, for: "5m" }] }] },
      });
    expect(await checkKubernetesManifest(rule("up == 0"), "PrometheusRule.json")).toMatchObject({
      status: "ok",
      tool: "manifest shape + promtool check rules",
    });
    const bad = await checkKubernetesManifest(rule("sum by (instance (up)"), "PrometheusRule.json");
    expect(bad.status).toBe("FAIL");
    expect(bad.findings.join("\n")).toMatch(/parse error/);
  });
});

describe("the examples' kubernetes artifacts pass their checks", () => {
  it.skipIf(without("promtool") || without("shellcheck"))("k3s-homelab and cluster", async () => {
    // Both stacks of each: the runner's chart is the second's.
    const artifacts = ["k3s-homelab", "cluster"].flatMap((name) =>
      Object.entries(synthEnvironmentStacks(exampleEnvironment(name))).flatMap(([stack, json]) => extractArtifacts(stack, json)),
    );
    const rows = await checkArtifacts(
      artifacts.filter((a) => a.kind === "helm-values" || a.kind === "kubernetes-manifest" || a.kind === "toml" || a.kind === "shell"),
    );
    expect(rows.filter((r) => r.status !== "ok").map((r) => `${r.origin}: ${r.findings.join("; ")}`)).toEqual([]);
    expect(rows.length).toBeGreaterThanOrEqual(15);
  });
});
