// The kubernetes examples as synthesized: releases of pinned charts in their namespaces, values
// known to the charts, secrets only as references, the low-memory profile, storage that keeps
// data, the secrets export, DNS, Argo CD, and a runner token any Terraform reference can give.
import { TerraformResource, TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CHARTS_WITHOUT_KEY_LIST, checkValuesKeys, rulesForChart } from "../../scripts/verify/chart-keys";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { KubernetesRunners } from "../../constructs/runner-fleet/kubernetes";
import { Testing } from "cdktf";
import { deepClone, exampleStack, exampleYaml, resources, synthEnvironment, type SynthesizedStack, validEnvironment } from "../helpers";

const k3s = exampleStack("k3s-homelab");
const cluster = exampleStack("cluster");
// The runner's token Secret and chart are the second stack's.
const k3sContent = exampleStack("k3s-homelab-gitlab");
const clusterContent = exampleStack("cluster-gitlab");

const releases = (stack: SynthesizedStack) => Object.fromEntries(resources(stack, "helm_release").map((r) => [r.name, r]));
const values = (release: any) => parse(unescapeTemplate(release.values[0])) as Record<string, any>;
const secrets = (stack: SynthesizedStack) => Object.fromEntries(resources(stack, "kubernetes_secret_v1").map((s) => [s.metadata.name, s]));

describe.each([
  ["k3s-homelab", k3s, k3sContent],
  ["cluster", cluster, clusterContent],
])("%s", (_name, stack, content) => {
  it("installs GitLab's and the runner's charts, pinned, from their publishers, each in its own namespace", () => {
    const r = { ...releases(stack), ...releases(content) };
    expect(r.gitlab).toMatchObject({ repository: "https://charts.gitlab.io", chart: "gitlab", version: "9.9.1", namespace: "gitlab", create_namespace: false });
    expect(r["gitlab-runner"]).toMatchObject({ repository: "https://charts.gitlab.io", chart: "gitlab-runner", version: "0.86.0", namespace: "gitlab-runner" });
    const namespaces = Object.values(r).map((x: any) => x.namespace);
    expect(new Set(namespaces).size).toBe(namespaces.length);
  });

  it("every release's values are keys its chart knows (charts with a key list in the repo)", () => {
    for (const release of [...Object.values(releases(stack)), ...Object.values(releases(content))] as any[]) {
      const rules = rulesForChart(release.chart, release.version);
      if (!rules && CHARTS_WITHOUT_KEY_LIST[release.chart]) continue;
      expect(rules, release.chart).toBeDefined();
      expect(
        checkValuesKeys(values(release), rules!.rules).map((f) => f.message),
        release.chart,
      ).toEqual([]);
    }
  });

  it("secrets are references: Secrets hold only variables (or jsonencode of them), values hold no variable at all", () => {
    for (const secret of Object.values(secrets(stack)) as any[]) {
      for (const [key, value] of Object.entries(secret.data as Record<string, string>)) {
        if (value === "") continue;
        expect(value, `${secret.metadata.name}.${key}`).toMatch(/^\$\{(var\.[a-z0-9_]+|jsonencode\(.*\))\}$/s);
      }
    }
    for (const release of [...Object.values(releases(stack)), ...Object.values(releases(content))] as any[]) {
      expect(release.values[0], release.name).not.toMatch(/var\.|password: [^\n{]|glrt-/);
      expect(release.set_sensitive).toBeUndefined();
    }
    for (const variable of Object.values(stack.variable ?? {}) as any[]) expect(variable).toMatchObject({ sensitive: true, type: "string" });
  });

  it("keeps GitLab's data: the namespace cannot be destroyed, stateful volumes are on a Retain StorageClass", () => {
    const gitlabNamespace = resources(stack, "kubernetes_namespace_v1").find((n) => n.metadata.name === "gitlab");
    expect(gitlabNamespace.lifecycle).toEqual({ prevent_destroy: true });
    const storageClass = resources(stack, "kubernetes_storage_class_v1")[0];
    expect(storageClass).toMatchObject({ reclaim_policy: "Retain", volume_binding_mode: "WaitForFirstConsumer", allow_volume_expansion: true });
    expect(values(releases(stack).gitlab).gitlab.gitaly.persistence.storageClass).toBe(storageClass.metadata.name);
  });

  it("exports the Rails secret and the SSH host keys daily to their own bucket, with the toolbox of this GitLab version", () => {
    const job = resources(stack, "kubernetes_cron_job_v1")[0];
    expect(job.metadata).toMatchObject({ name: "gitlab-secrets-export", namespace: "gitlab" });
    expect(job.spec.schedule).toBe("0 2 * * *");
    const pod = job.spec.job_template.spec.template.spec;
    expect(pod.container[0].image).toBe("registry.gitlab.com/gitlab-org/build/cng/gitlab-toolbox-ce:v18.9.1");
    expect(pod.volume.map((v: any) => v.secret?.secret_name).filter(Boolean)).toEqual(["gitlab-rails-secret", "gitlab-gitlab-shell-host-keys"]);
    expect(pod.container[0].volume_mount.filter((m: any) => m.name !== "scratch").every((m: any) => m.read_only)).toBe(true);
    expect(pod.container[0].security_context).toMatchObject({ privileged: false, read_only_root_filesystem: true, allow_privilege_escalation: false });
    const env = Object.fromEntries(pod.container[0].env.map((e: any) => [e.name, e.value ?? e.value_from]));
    expect(env.SECRETS_BUCKET).toMatch(/-restore-secrets$/);
    expect(job.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^helm_release\.gitlab-server/)]));
  });

  it("issues certificates from a ClusterIssuer (DNS-01 through Cloudflare); git SSH's record is DNS-only", () => {
    const issuer = resources(stack, "kubernetes_manifest").find((m) => m.manifest.kind === "ClusterIssuer");
    expect(issuer.manifest.spec.acme.solvers[0].dns01.cloudflare.apiTokenSecretRef.key).toBe("api-token");
    const records = Object.fromEntries(resources(stack, "cloudflare_dns_record").map((r) => [r.name, r]));
    const ssh = Object.values(records).find((r: any) => r.name.startsWith("ssh-")) as any;
    expect(ssh.proxied).toBe(false);
  });

  it("the runner chart (second stack) reads its token from a Secret made from the gitlab_user_runner's token, and rolls when the runner is replaced", () => {
    const runner = releases(content)["gitlab-runner"];
    const [userRunner] = Object.keys(content.resource.gitlab_user_runner ?? {});
    expect(secrets(content)["gitlab-runner-token"].data).toEqual({
      "runner-token": `\${gitlab_user_runner.${userRunner}.token}`,
      "runner-registration-token": "",
    });
    expect(runner.depends_on).toEqual([expect.stringMatching(/^kubernetes_secret_v1\.runner-release_token/)]);
    expect(runner.set).toEqual([{ name: "podAnnotations.gitlab-platform/runner-id", value: `\${gitlab_user_runner.${userRunner}.id}` }]);
    // The first stack keeps the namespace only: no runner token, no variable for one.
    expect(secrets(stack)["gitlab-runner-token"]).toBeUndefined();
    expect(releases(stack)["gitlab-runner"]).toBeUndefined();
    expect(Object.keys(stack.variable ?? {}).filter((v) => v.includes("runner"))).toEqual([]);
  });
});

describe("k3s-homelab (the reference k3s host)", () => {
  const gitlab = values(releases(k3s).gitlab);

  it("runs the low-memory profile with the bundled PostgreSQL and Redis", () => {
    expect(gitlab.gitlab.webservice).toMatchObject({ minReplicas: 1, maxReplicas: 1, workerProcesses: 2 });
    expect(gitlab.gitlab.sidekiq).toMatchObject({ concurrency: 5 });
    expect(gitlab.postgresql).toMatchObject({ install: true, primary: { persistence: { storageClass: "k3s-homelab-gitlab-retain", size: "20Gi" } } });
    expect(gitlab.redis).toMatchObject({ install: true });
    expect(gitlab.global.kas.enabled).toBe(false);
  });

  it("installs cert-manager and Argo CD (pinned) with one Application, which waits for its CRD's release", () => {
    const r = releases(k3s);
    expect(r["cert-manager"]).toMatchObject({ repository: "https://charts.jetstack.io", version: "v1.21.1", namespace: "cert-manager" });
    expect(r.argocd).toMatchObject({ repository: "https://argoproj.github.io/argo-helm", chart: "argo-cd", version: "10.1.1", namespace: "argocd" });
    const manifests = resources(k3s, "kubernetes_manifest");
    const apps = manifests.filter((m) => m.manifest.kind === "Application");
    expect(apps).toHaveLength(1);
    expect(apps[0].manifest.spec.source).toEqual({
      repoURL: "https://gitlab-k3s.example.com/platform/gitops.git",
      path: "apps/k3s-homelab",
      targetRevision: "main",
    });
    expect(apps[0].depends_on).toEqual([expect.stringMatching(/^helm_release\.argocd_chart/)]);
    expect(secrets(k3s)["argocd-oidc"].metadata.labels["app.kubernetes.io/part-of"]).toBe("argocd");
  });

  it("git SSH on 2222 through GitLab Shell's LoadBalancer; every record on the node's address", () => {
    expect(gitlab.global.shell.port).toBe(2222);
    expect(resources(k3s, "cloudflare_dns_record").map((r) => [r.type, r.content])).toEqual(Array(4).fill(["A", "192.0.2.20"]));
  });

  it("monitors and the PrometheusRule for the cluster's Prometheus operator", () => {
    const rule = resources(k3s, "kubernetes_manifest").find((m) => m.manifest.kind === "PrometheusRule");
    expect(rule.manifest.metadata).toMatchObject({ namespace: "gitlab", labels: { release: "kube-prometheus-stack" } });
    expect(gitlab.gitlab.sidekiq.metrics.podMonitor.endpointConfig.relabelings).toEqual([{ targetLabel: "job", replacement: "gitlab-sidekiq" }]);
  });
});

describe("cluster (production shape)", () => {
  const gitlab = values(releases(cluster).gitlab);

  it("uses external PostgreSQL and Redis through existing Secrets, S3 through IRSA, several replicas", () => {
    expect(gitlab.postgresql).toEqual({ install: false });
    expect(gitlab.global.psql).toMatchObject({
      host: "cluster-db.abcdefghijkl.eu-west-3.rds.amazonaws.com",
      password: { secret: "gitlab-postgresql", key: "password" },
    });
    expect(gitlab.global.redis).toMatchObject({ scheme: "rediss", auth: { enabled: true, secret: "gitlab-redis", key: "password" } });
    expect(gitlab.global.serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toBe("arn:aws:iam::222222222222:role/cluster-gitlab");
    expect(gitlab.gitlab.webservice).toMatchObject({ minReplicas: 3, maxReplicas: 6, workerProcesses: 4 });
    expect(gitlab.gitlab.sidekiq).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    // Existing Secrets are named, not written: no Secret for them here.
    expect(Object.keys(secrets(cluster)).sort()).toEqual([
      "cluster-letsencrypt-cloudflare-token",
      "gitlab-object-storage",
      "gitlab-oidc-provider",
      "gitlab-registry-storage",
    ]);
    expect(secrets(cluster)["gitlab-object-storage"].data.connection).toContain('"use_iam_profile" = true');
  });

  it("points CNAME records at the load balancers, git SSH at GitLab Shell's own", () => {
    const records = resources(cluster, "cloudflare_dns_record").map((r) => [r.name, r.type, r.content]);
    expect(records).toContainEqual(["ssh-gitlab-cluster.example.com", "CNAME", "gitlab-shell-0123456789abcdef.elb.eu-west-3.amazonaws.com"]);
    expect(records).toContainEqual(["gitlab-cluster.example.com", "CNAME", "ingress-0123456789abcdef.elb.eu-west-3.amazonaws.com"]);
  });

  it("reaches the cluster by kubeconfig context; the file comes from KUBE_CONFIG_PATH unless config names it", () => {
    expect(cluster.provider.kubernetes).toEqual([{ config_context: "arn:aws:eks:eu-west-3:222222222222:cluster/platform" }]);
    expect(cluster.provider.helm).toEqual([{ kubernetes: { config_context: "arn:aws:eks:eu-west-3:222222222222:cluster/platform" } }]);
    const c = deepClone(exampleYaml("cluster"));
    c.kubernetes.kubeconfig.path = "~/.kube/eks.yaml";
    const withPath = synthEnvironment(validEnvironment(c, "cluster"));
    expect(withPath.provider.kubernetes[0]).toEqual({ config_context: "arn:aws:eks:eu-west-3:222222222222:cluster/platform", config_path: "~/.kube/eks.yaml" });
  });
});

describe("runner registration", () => {
  it("the runner's Secret takes the gitlab_user_runner's token as a reference, and refuses a literal", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "day2");
    const userRunner = new TerraformResource(stack, "user-runner", { terraformResourceType: "gitlab_user_runner" });
    const props = {
      gitlabUrl: "https://gitlab.example.com",
      chartVersion: "0.86.0",
      concurrent: 1,
      jobImage: "alpine:3.20",
      privileged: false,
      jobResources: { cpu: "100m", memory: "256Mi" },
    };
    new KubernetesRunners(stack, "day2-runners", {
      ...props,
      namespace: { name: "day2-runner" },
      token: userRunner.getStringAttribute("token"),
      tokenVersion: userRunner.getStringAttribute("id"),
    });
    const synthesized = JSON.parse(Testing.synth(stack));
    const token = Object.values(synthesized.resource.kubernetes_secret_v1).find((s: any) => s.metadata.namespace === "day2-runner") as any;
    expect(token.data["runner-token"]).toBe("${gitlab_user_runner.user-runner.token}");
    expect(
      () => new KubernetesRunners(stack, "literal", { ...props, namespace: { name: "x" }, token: "glrt-AbCdEfGhIjKlMnOpQrSt", tokenVersion: "1" }),
    ).toThrow(/must be a Terraform reference/);
  });
});
