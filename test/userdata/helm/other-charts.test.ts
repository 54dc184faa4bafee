// The gitlab-runner, Argo CD and cert-manager values, and the custom resources, as rendered.
import { keyLists } from "../../../scripts/verify/runner-config-keys";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkValuesKeys, rulesForChart } from "../../../scripts/verify/chart-keys";
import { argoCdChartValues } from "../../../userdata/helm/argocd-values";
import { certManagerChartValues } from "../../../userdata/helm/cert-manager-values";
import { kubernetesExecutorToml, runnerChartValues, type RunnerChartSettings } from "../../../userdata/helm/runner-values";
import { renderValues } from "../../../userdata/helm/values";
import { argoCdApplication } from "../../../userdata/kubernetes/argocd-application";
import { clusterIssuer, LETSENCRYPT } from "../../../userdata/kubernetes/cluster-issuer";
import { prometheusRule } from "../../../userdata/kubernetes/prometheus-rule";
import { alertThresholds } from "../../../userdata/monitoring/alert-rules";
import { kubernetesAlertRules } from "../../../userdata/monitoring/rules";

const keys = (chart: string, version: string, values: unknown) =>
  checkValuesKeys(parse(renderValues(values as never, "test")), rulesForChart(chart, version)!.rules).map((f) => f.message);
const tomlKeys = keyLists().runner;
const allKeys = (v: unknown): string[] =>
  Array.isArray(v) ? v.flatMap(allKeys) : v && typeof v === "object" ? Object.entries(v).flatMap(([k, c]) => [k, ...allKeys(c)]) : [];

const runner: RunnerChartSettings = {
  gitlabUrl: "https://gitlab.example.com",
  concurrent: 4,
  tokenSecret: "gitlab-runner-token",
  jobNamespace: "gitlab-runner",
  jobImage: "alpine:3.20",
  privileged: false,
  jobResources: { cpu: "100m", memory: "256Mi", memoryLimit: "1Gi" },
  metrics: { selectorLabels: { release: "kube-prometheus-stack" } },
};

describe("gitlab-runner chart values", () => {
  it("every key is one of chart 0.86.0's; the token only as the Secret's name", () => {
    const values = runnerChartValues(runner);
    expect(keys("gitlab-runner", "0.86.0", values)).toEqual([]);
    expect(keys("gitlab-runner", "0.86.0", runnerChartValues({ ...runner, metrics: undefined }))).toEqual([]);
    expect(values.runners).toMatchObject({ secret: "gitlab-runner-token" });
    expect(JSON.stringify(values)).not.toMatch(/glrt-|runnerToken|runnerRegistrationToken/);
  });

  it("config.toml: the Kubernetes executor in the runner's namespace, unprivileged unless asked, keys gitlab-runner knows", () => {
    const toml = parseToml(kubernetesExecutorToml(runner)) as any;
    expect(toml.runners[0].kubernetes).toEqual({
      namespace: "gitlab-runner",
      image: "alpine:3.20",
      privileged: false,
      allow_privilege_escalation: false,
      cpu_request: "100m",
      memory_request: "256Mi",
      memory_limit: "1Gi",
      helper_cpu_request: "50m",
      helper_memory_request: "64Mi",
    });
    expect(allKeys(toml).filter((k) => !tomlKeys.has(k))).toEqual([]);
    expect((parseToml(kubernetesExecutorToml({ ...runner, privileged: true })) as any).runners[0].kubernetes).toMatchObject({
      privileged: true,
      allow_privilege_escalation: true,
    });
  });

  it("the manager pod is never privileged; its metrics carry the job label the alert rules select", () => {
    const values = runnerChartValues({ ...runner, privileged: true }) as any;
    expect(values.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true });
    expect(values.metrics.podMonitor.relabelings).toEqual([{ targetLabel: "job", replacement: "gitlab-runner" }]);
  });
});

describe("Argo CD chart values", () => {
  const sso = {
    issuer: "https://gitlab.example.com",
    clientId: "argocd",
    clientSecret: { secret: "argocd-oidc", key: "clientSecret" },
    adminEmails: ["ops@example.com"],
  };
  it("SSO names the client secret as $secret:key; admins by e-mail, others read-only", () => {
    const values = argoCdChartValues({ host: "argocd.example.com", ingressClassName: "traefik", clusterIssuer: "le", sso }) as any;
    expect(parse(values.configs.cm["oidc.config"])).toEqual({
      name: "SSO",
      issuer: "https://gitlab.example.com",
      clientID: "argocd",
      clientSecret: "$argocd-oidc:clientSecret",
      requestedScopes: ["openid", "profile", "email"],
    });
    expect(values.configs.rbac).toEqual({ "policy.default": "role:readonly", scopes: "[groups, email]", "policy.csv": "g, ops@example.com, role:admin\n" });
    expect(values.server.ingress).toMatchObject({
      enabled: true,
      ingressClassName: "traefik",
      tls: true,
      annotations: { "cert-manager.io/cluster-issuer": "le" },
    });
    expect(values.dex.enabled).toBe(false);
  });

  it("without SSO: no OIDC config", () => {
    const values = argoCdChartValues({ host: "argocd.example.com", ingressClassName: "nginx", clusterIssuer: "le" }) as any;
    expect(values.configs.cm["oidc.config"]).toBeUndefined();
  });
});

describe("cert-manager chart values", () => {
  it("installs and keeps its CRDs", () => {
    expect(certManagerChartValues()).toMatchObject({ crds: { enabled: true, keep: true } });
  });
});

describe("custom resources", () => {
  it("ClusterIssuer: Let's Encrypt by DNS-01 through Cloudflare, the token named", () => {
    const issuer = clusterIssuer({
      name: "le",
      email: "ops@example.com",
      staging: false,
      cloudflareToken: { secret: "cf", key: "api-token" },
      dnsZones: ["example.com"],
    }) as any;
    expect(issuer).toMatchObject({ apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "le" } });
    expect(issuer.spec.acme.server).toBe(LETSENCRYPT.production);
    expect(issuer.spec.acme.solvers).toEqual([
      { selector: { dnsZones: ["example.com"] }, dns01: { cloudflare: { apiTokenSecretRef: { name: "cf", key: "api-token" } } } },
    ]);
    expect(
      (clusterIssuer({ name: "le", email: "a@example.com", staging: true, cloudflareToken: { secret: "cf", key: "t" }, dnsZones: [] }) as any).spec.acme.server,
    ).toBe(LETSENCRYPT.staging);
  });

  it("PrometheusRule: the alert rule groups, with the selector labels", () => {
    const rules = kubernetesAlertRules(alertThresholds({ backupMaxAgeHours: 26 }), {
      namespace: "gitlab",
      runnerNamespace: "gitlab-runner",
      backupCronJobs: ["gitlab-toolbox-backup"],
    });
    const rule = prometheusRule({ name: "gitlab-platform", namespace: "gitlab", labels: { release: "kps" }, rules }) as any;
    expect(rule).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { namespace: "gitlab", labels: { release: "kps" } },
    });
    expect(rule.spec.groups[0].rules.map((r: any) => r.alert)).toEqual(rules.map((r) => r.alert));
  });

  it("Application: one repository path into one namespace, synced automatically", () => {
    const app = argoCdApplication({
      name: "apps",
      argocdNamespace: "argocd",
      repoUrl: "https://gitlab.example.com/p/g.git",
      path: "apps/x",
      targetRevision: "main",
      destinationNamespace: "apps",
    }) as any;
    expect(app).toMatchObject({ apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: "apps", namespace: "argocd" } });
    expect(app.spec).toMatchObject({
      source: { repoURL: "https://gitlab.example.com/p/g.git", path: "apps/x", targetRevision: "main" },
      destination: { server: "https://kubernetes.default.svc", namespace: "apps" },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true"] },
    });
  });
});
