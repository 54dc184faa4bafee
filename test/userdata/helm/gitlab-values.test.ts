// The GitLab chart's values as the renderers write them: every key known to chart 9.9.1,
// secrets only named, the low-memory profile's documented settings, and parts that may not
// contradict each other.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkValuesKeys, rulesForChart, uncheckedKeys } from "../../../scripts/verify/chart-keys";
import { backupValues } from "../../../userdata/helm/gitlab/backups";
import { metricsValues } from "../../../userdata/helm/gitlab/metrics";
import type { GitLabChartSettings } from "../../../userdata/helm/gitlab/model";
import { registryValues } from "../../../userdata/helm/gitlab/registry";
import { gitlabChartValues, gitlabServerValues } from "../../../userdata/helm/gitlab/values";
import { mergeValues, renderValues, type HelmValues } from "../../../userdata/helm/values";

const rules = rulesForChart("gitlab", "9.9.1")!.rules;
const ref = (secret: string, key = "password") => ({ secret, key });

/** The reference k3s host's single node: bundled PostgreSQL and Redis, traefik, small profile. */
const small: GitLabChartSettings = {
  endpoints: {
    hosts: { domain: "example.com", gitlab: "gitlab.example.com", ssh: "ssh.example.com", registry: "registry.example.com" },
    ingress: { controller: "existing", className: "traefik" },
    clusterIssuer: "le",
    sshPort: 2222,
  },
  timeZone: "UTC",
  sizing: { memoryProfile: "small" },
  data: {
    gitaly: { storageClass: "retain", sizeGi: 50 },
    database: { bundled: { storageClass: "retain", sizeGi: 20 } },
    redis: { bundled: { storageClass: "retain", sizeGi: 5 } },
  },
  objectStorage: { connection: ref("gitlab-object-storage", "connection"), bucketPrefix: "p" },
  mail: {
    emailFrom: "gitlab@example.com",
    smtp: { host: "smtp.example.com", port: 587, username: "u", password: ref("smtp"), security: "starttls", domain: "example.com" },
  },
  sso: { provider: ref("oidc", "provider"), autoSignIn: true, autoLinkUsers: false, blockAutoCreatedUsers: false },
};

/** A production shape: external services, IRSA, bundled ingress, replicas from config. */
const production: GitLabChartSettings = {
  ...small,
  endpoints: { ...small.endpoints, ingress: { controller: "bundled", loadBalancerIP: "192.0.2.1" }, sshPort: 22, sshLoadBalancerIP: "192.0.2.2" },
  sizing: {
    memoryProfile: "standard",
    webservice: { minReplicas: 3, maxReplicas: 6, workers: 4, resources: { cpu: "4", memory: "5G", memoryLimit: "7G" } },
    sidekiq: { minReplicas: 2, concurrency: 20 },
  },
  data: {
    gitaly: { storageClass: "retain", sizeGi: 200 },
    database: { external: { host: "db", port: 5432, name: "gitlabhq_production", username: "gitlab", password: ref("pg"), sslMode: "verify-full" } },
    redis: { external: { host: "redis", port: 6379, password: ref("redis"), tls: true } },
  },
  objectStorage: { ...small.objectStorage, iamRoleArn: "arn:aws:iam::222222222222:role/gitlab" },
};

const parts: HelmValues[] = [
  registryValues({ enabled: true, storage: ref("registry-storage", "config"), bucket: "p-registry" }),
  backupValues({
    schedule: "0 2 * * *",
    bucket: "p-backups",
    tmpBucket: "p-backups-tmp",
    scratchGi: 20,
    region: "us-east-1",
    endpoint: "https://s3.nas.example.com",
    keys: { accessKeyId: ref("b", "id"), secretAccessKey: ref("b", "key") },
  }),
  metricsValues({ selectorLabels: { release: "kube-prometheus-stack" }, registry: true }),
];

const rendered = (s: GitLabChartSettings, p: HelmValues[] = parts) => parse(renderValues(gitlabChartValues(s, p), "test")) as Record<string, any>;

describe("GitLab chart values", () => {
  it.each([
    ["small", small],
    ["production", production],
  ])("%s: every key is one of chart 9.9.1's, except what goes to the bundled PostgreSQL and Redis (listed as unchecked)", (_name, settings) => {
    expect(checkValuesKeys(rendered(settings), rules).map((f) => f.message)).toEqual([]);
    expect(checkValuesKeys(rendered(settings, [registryValues({ enabled: false })]), rules)).toEqual([]);
  });

  it("small: the keys only the bundled subcharts read are exactly these (no key list of theirs in the repo)", () => {
    expect(uncheckedKeys(rendered(small), rules).map((k) => k.path)).toEqual([
      "postgresql.primary.persistence",
      "postgresql.primary.persistence.enabled",
      "postgresql.primary.persistence.storageClass",
      "postgresql.primary.persistence.size",
      "postgresql.primary.extendedConfiguration",
      "redis.master",
      "redis.master.persistence",
      "redis.master.persistence.enabled",
      "redis.master.persistence.storageClass",
      "redis.master.persistence.size",
    ]);
    expect(uncheckedKeys(rendered(production), rules)).toEqual([]);
  });

  it("names every secret and holds none: each password, token and key is a { secret, key } pair", () => {
    const values = rendered(production);
    expect(values.global.psql.password).toEqual({ useSecret: true, secret: "pg", key: "password" });
    expect(values.global.redis.auth).toEqual({ enabled: true, secret: "redis", key: "password" });
    expect(values.global.smtp.password).toEqual({ secret: "smtp", key: "password" });
    expect(values.global.appConfig.omniauth.providers).toEqual([{ secret: "oidc", key: "provider" }]);
    expect(values.global.appConfig.object_store.connection).toEqual({ secret: "gitlab-object-storage", key: "connection" });
    expect(values.registry.storage).toEqual({ secret: "registry-storage", key: "config" });
    // No leaf whose name says secret holds anything but a Secret's name.
    const leaves: [string, unknown][] = [];
    const walk = (v: unknown, path: string) => {
      if (v && typeof v === "object" && !Array.isArray(v)) for (const [k, c] of Object.entries(v)) walk(c, path ? `${path}.${k}` : k);
      else leaves.push([path, v]);
    };
    walk(rendered(small), "");
    const secretish = leaves.filter(([p]) => /(password|token|secret_key|access_key)[^.]*$/i.test(p));
    expect(secretish).toEqual([]);
  });

  it("puts git SSH on GitLab Shell's own LoadBalancer Service on the chosen port", () => {
    expect(rendered(small).global.shell).toEqual({ port: 2222 });
    expect(rendered(small).gitlab["gitlab-shell"].service).toEqual({ type: "LoadBalancer" });
    expect(rendered(production).gitlab["gitlab-shell"].service).toEqual({ type: "LoadBalancer", loadBalancerIP: "192.0.2.2" });
  });

  it("takes TLS from our ClusterIssuer on the cluster's ingress class, or the bundled controller", () => {
    const values = rendered(small);
    expect(values.global.ingress).toMatchObject({
      class: "traefik",
      provider: "traefik",
      configureCertmanager: false,
      annotations: { "cert-manager.io/cluster-issuer": "le" },
    });
    expect(values.installCertmanager).toBe(false);
    expect(values["nginx-ingress"].enabled).toBe(false);
    const bundled = rendered(production);
    expect(bundled["nginx-ingress"].enabled).toBe(true);
    expect(bundled.global.ingress.class).toBeUndefined();
    expect(bundled.global.hosts.externalIP).toBe("192.0.2.1");
  });

  it("low-memory profile: one replica each, Puma 2 workers, Sidekiq 5 threads, small requests, KAS and Pages off, PostgreSQL 64 MB shared buffers", () => {
    const values = rendered(small);
    expect(values.gitlab.webservice).toMatchObject({
      minReplicas: 1,
      maxReplicas: 1,
      workerProcesses: 2,
      resources: { requests: { cpu: "100m", memory: "900M" }, limits: { memory: "2G" } },
    });
    expect(values.gitlab.sidekiq).toMatchObject({ minReplicas: 1, maxReplicas: 1, concurrency: 5, resources: { requests: { cpu: "50m", memory: "625M" } } });
    expect(values.gitlab["gitlab-shell"]).toMatchObject({ minReplicas: 1, maxReplicas: 1 });
    expect(values.registry.hpa).toEqual({ minReplicas: 1, maxReplicas: 1 });
    expect(values.global.kas.enabled).toBe(false);
    expect(values.global.pages.enabled).toBe(false);
    expect(values.prometheus.install).toBe(false);
    expect(values["gitlab-runner"].install).toBe(false);
    expect(values.postgresql.primary.extendedConfiguration).toBe("shared_buffers = 64MB\nmax_worker_processes = 4\n");
  });

  it("standard profile: the chart's defaults except what config sets", () => {
    const values = rendered(production);
    expect(values.gitlab.webservice).toMatchObject({
      minReplicas: 3,
      maxReplicas: 6,
      workerProcesses: 4,
      resources: { requests: { cpu: "4", memory: "5G" }, limits: { memory: "7G" } },
    });
    expect(values.gitlab.sidekiq).toMatchObject({ minReplicas: 2, concurrency: 20 });
    expect(values.gitlab.sidekiq.maxReplicas).toBeUndefined();
    expect(values.global.kas).toBeUndefined();
    expect(values.postgresql).toEqual({ install: false });
  });

  it("PodDisruptionBudgets: one pod of each unavailable at a time, on any profile", () => {
    for (const settings of [small, production]) {
      const values = rendered(settings);
      expect([
        values.gitlab.webservice.maxUnavailable,
        values.gitlab.sidekiq.maxUnavailable,
        values.gitlab["gitlab-shell"].maxUnavailable,
        values.registry.maxUnavailable,
      ]).toEqual([1, 1, 1, 1]);
    }
  });

  it("config wins over the small profile field by field", () => {
    const values = rendered({ ...small, sizing: { memoryProfile: "small", webservice: { workers: 3, resources: { memoryLimit: "3G" } } } });
    expect(values.gitlab.webservice).toMatchObject({
      minReplicas: 1,
      workerProcesses: 3,
      resources: { requests: { cpu: "100m", memory: "900M" }, limits: { memory: "3G" } },
    });
  });

  it("bundled PostgreSQL, Redis and Gitaly on the Retain StorageClass; MinIO off; every object type in the store", () => {
    const values = rendered(small);
    expect(values.postgresql.primary.persistence).toEqual({ enabled: true, storageClass: "retain", size: "20Gi" });
    expect(values.redis.master.persistence).toEqual({ enabled: true, storageClass: "retain", size: "5Gi" });
    expect(values.gitlab.gitaly.persistence).toEqual({ enabled: true, storageClass: "retain", size: "50Gi" });
    expect(values.global.minio.enabled).toBe(false);
    expect(values.global.appConfig.artifacts).toEqual({ bucket: "p-artifacts" });
    expect(values.global.appConfig.dependencyProxy).toEqual({ bucket: "p-dependency-proxy", enabled: true });
  });

  it("backups by the toolbox CronJob with the AWS CLI, keys from a Secret, in UTC", () => {
    const values = rendered(small);
    expect(values.gitlab.toolbox.backups.cron).toMatchObject({
      enabled: true,
      schedule: "0 2 * * *",
      timeZone: "Etc/UTC",
      extraArgs: "--s3tool awscli --aws-s3-endpoint-url https://s3.nas.example.com",
    });
    expect(values.gitlab.toolbox.extraEnvFrom.AWS_SECRET_ACCESS_KEY).toEqual({ secretKeyRef: { name: "b", key: "key" } });
    expect(values.global.appConfig.backups).toEqual({ bucket: "p-backups", tmpBucket: "p-backups-tmp" });
  });

  it("IRSA: the role on GitLab's service accounts, no keys", () => {
    expect(rendered(production).global.serviceAccount).toEqual({
      enabled: true,
      create: true,
      annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::222222222222:role/gitlab" },
    });
  });

  it("SSO as on the other platforms: let in, auto sign-in, no sign-up, existing accounts never linked by e-mail unless asked", () => {
    expect(gitlabServerValues(small)).toMatchObject({
      global: {
        appConfig: {
          omniauth: {
            enabled: true,
            allowSingleSignOn: ["openid_connect"],
            autoLinkUser: [],
            blockAutoCreatedUsers: false,
            autoSignInWithProvider: "openid_connect",
          },
          initialDefaults: { signupEnabled: false },
        },
      },
    });
    const asked = { ...small, sso: { ...small.sso!, autoLinkUsers: true, blockAutoCreatedUsers: true } };
    expect(gitlabServerValues(asked)).toMatchObject({ global: { appConfig: { omniauth: { autoLinkUser: ["openid_connect"], blockAutoCreatedUsers: true } } } });
  });

  it("refuses parts that contradict each other, naming the key", () => {
    expect(() => mergeValues({ a: { b: 1 } }, { a: { b: 2 } })).toThrow("helm values: a.b is set twice, to 1 and 2");
    expect(mergeValues({ a: { b: 1, c: undefined } }, { a: { b: 1, d: [1] } })).toEqual({ a: { b: 1, d: [1] } });
  });
});
