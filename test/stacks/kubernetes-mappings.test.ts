// The kubernetes stack's mappings, one per capability: environment in, construct props out.
import { describe, expect, it } from "vitest";
import { backupsProps, secretsExportProps } from "../../stacks/kubernetes/backups";
import { dnsTlsProps, issuerName } from "../../stacks/kubernetes/dns-tls";
import { secretInput, type KubernetesEnvironment } from "../../stacks/kubernetes/environment";
import { chartEndpoints, gitlabServerProps, storageClassProps } from "../../stacks/kubernetes/gitlab-server";
import { argoCdProps, BUNDLED_INGRESS_CLASS } from "../../stacks/kubernetes/gitops";
import { s3Connection } from "../../stacks/kubernetes/object-storage";
import { observabilityProps } from "../../stacks/kubernetes/observability";
import { DEFAULT_JOB_RESOURCES, runnerFleetProps } from "../../stacks/kubernetes/runner-fleet";
import { deepClone, exampleEnvironment, exampleYaml, validEnvironment } from "../helpers";

const vars = { variable: (name: string) => `\${var.${name}}` };
const k3s = exampleEnvironment("k3s-homelab") as KubernetesEnvironment;
const cluster = exampleEnvironment("cluster") as KubernetesEnvironment;
const variant = (name: "k3s-homelab" | "cluster", edit: (c: any) => void) => {
  const c = deepClone(exampleYaml(name));
  edit(c);
  return validEnvironment(c, name) as KubernetesEnvironment;
};
const handle = <T>(name: string) => ({ name }) as unknown as T;

describe("secrets", () => {
  it("a variable becomes its value, an existing Secret its name and key", () => {
    expect(secretInput({ terraformVariable: "db" }, vars)).toEqual({ value: "${var.db}" });
    expect(secretInput({ kubernetesSecret: { name: "pg", key: "password" } }, vars)).toEqual({ existing: { secret: "pg", key: "password" } });
  });

  it("object storage: keys from variables on an S3-compatible store; IRSA without keys or endpoint", () => {
    expect(s3Connection(k3s, vars)).toEqual({
      region: "us-east-1",
      endpoint: "https://s3.nas.example.com",
      pathStyle: true,
      credentials: { accessKeyId: "${var.object_storage_access_key_id}", secretAccessKey: "${var.object_storage_secret_access_key}" },
    });
    expect(s3Connection(cluster, vars)).toEqual({ region: "eu-west-3", pathStyle: false, credentials: { iamRole: true } });
  });
});

describe("dns-tls", () => {
  it("web names on the ingress address, git SSH on its own (or the same), Argo CD when enabled", () => {
    const k = dnsTlsProps(k3s, "${var.cloudflare_api_token}");
    expect(k.webHosts).toEqual([
      { id: "gitlab", name: "gitlab-k3s.example.com" },
      { id: "registry", name: "registry-k3s.example.com" },
      { id: "argocd", name: "argocd-k3s.example.com" },
    ]);
    expect([k.webAddress, k.sshAddress, k.sshHost]).toEqual(["192.0.2.20", "192.0.2.20", "ssh-gitlab-k3s.example.com"]);
    expect(k).toMatchObject({
      issuerName: "k3s-homelab-letsencrypt",
      certManager: { install: true, chartVersion: "v1.21.1", namespace: "cert-manager" },
      acme: { email: "ops@example.com", staging: false },
    });
    const c = dnsTlsProps(cluster, "t");
    expect(c.sshAddress).toBe("gitlab-shell-0123456789abcdef.elb.eu-west-3.amazonaws.com");
    expect(c.webHosts.map((h) => h.id)).toEqual(["gitlab", "registry"]);
    expect(issuerName(cluster)).toBe("cluster-letsencrypt");
  });
});

describe("gitlab-server", () => {
  it("endpoints: the cluster's ingress class, or the bundled controller on a fixed IP; SSH's IP only when config gives one", () => {
    expect(chartEndpoints(k3s, "le")).toEqual({
      hosts: { domain: "example.com", gitlab: "gitlab-k3s.example.com", ssh: "ssh-gitlab-k3s.example.com", registry: "registry-k3s.example.com" },
      ingress: { controller: "existing", className: "traefik" },
      clusterIssuer: "le",
      sshPort: 2222,
    });
    const bundled = variant("cluster", (c) => {
      c.kubernetes.ingress = { controller: "bundled" };
      c.kubernetes.loadBalancerAddress = "192.0.2.30";
      c.kubernetes.sshLoadBalancerAddress = "192.0.2.31";
    });
    expect(chartEndpoints(bundled, "le")).toMatchObject({ ingress: { controller: "bundled", loadBalancerIP: "192.0.2.30" }, sshLoadBalancerIP: "192.0.2.31" });
  });

  it("storage: a Retain class from the provisioner, or the existing class", () => {
    expect(storageClassProps(k3s)).toEqual({ name: "k3s-homelab-gitlab-retain", provisioner: "rancher.io/local-path", parameters: {} });
    const existing = variant("k3s-homelab", (c) => {
      delete c.kubernetes.storage.provisioner;
      c.kubernetes.storage.existingClass = "local-path";
    });
    expect(storageClassProps(existing)).toEqual({ existingClass: "local-path" });
  });

  it("data services, mail and SSO from config; existing Secrets stay names", () => {
    const parts = {
      namespace: handle("gitlab"),
      issuer: { name: "le", ready: [] },
      storage: handle("sc"),
      registry: undefined,
      backups: handle("b"),
      metrics: undefined,
    } as any;
    const props = gitlabServerProps(cluster, vars, parts);
    expect(props.database).toEqual({
      host: "cluster-db.abcdefghijkl.eu-west-3.rds.amazonaws.com",
      port: 5432,
      name: "gitlabhq_production",
      username: "gitlab",
      sslMode: "require",
      password: { existing: { secret: "gitlab-postgresql", key: "password" } },
    });
    expect(props.redis).toEqual({
      host: "cluster-redis.abcdef.ng.0001.euw3.cache.amazonaws.com",
      port: 6379,
      tls: true,
      password: { existing: { secret: "gitlab-redis", key: "password" } },
    });
    expect(props.mail.smtp).toMatchObject({ domain: "example.com", password: { existing: { secret: "gitlab-smtp", key: "password" } } });
    expect(props.sso).toEqual({
      label: "Okta",
      issuer: "https://auth.example.com/oauth2/default",
      clientId: "0oa1b2c3d4e5f6g7h8i9",
      clientSecret: "${var.gitlab_oidc_client_secret}",
      autoSignIn: true,
      autoLinkUsers: false,
      blockAutoCreatedUsers: false,
    });
    expect(props.objectStorage).toMatchObject({ bucketPrefix: "cluster-gitlab", iamRoleArn: "arn:aws:iam::222222222222:role/cluster-gitlab" });
    expect([props.chartVersion, props.gitlabVersion]).toEqual(["9.9.1", "18.9.1"]);
    const bare = gitlabServerProps(k3s, vars, parts);
    expect(bare.database).toBeUndefined();
    expect(bare.redis).toBeUndefined();
    expect(bare.volumes).toEqual({ gitalyGi: 50, postgresqlGi: 20, redisGi: 5 });
    expect(bare.sizing).toEqual({ memoryProfile: "small" });
  });
});

describe("backups", () => {
  it("the toolbox to <prefix>-backups with the store's credentials; the secrets export to its own bucket", () => {
    expect(backupsProps(k3s, vars, handle("gitlab"))).toMatchObject({
      schedule: "0 2 * * *",
      bucket: "k3s-homelab-gitlab-backups",
      tmpBucket: "k3s-homelab-gitlab-backups-tmp",
      scratchGi: 20,
      endpoint: "https://s3.nas.example.com",
      credentials: { accessKeyId: "${var.object_storage_access_key_id}" },
    });
    expect(backupsProps(cluster, vars, handle("gitlab")).credentials).toEqual({ iamRoleArn: "arn:aws:iam::222222222222:role/cluster-gitlab" });
    expect(secretsExportProps(cluster, { server: handle("s"), backups: handle("b") })).toMatchObject({
      secretsBucket: "cluster-restore-secrets",
      schedule: "0 2 * * *",
      environment: "cluster",
    });
  });
});

describe("runners, observability, Argo CD", () => {
  it("runner: config's sizes, else the default job resources", () => {
    expect(runnerFleetProps(k3s).jobResources).toEqual(DEFAULT_JOB_RESOURCES);
    expect(runnerFleetProps(cluster)).toMatchObject({
      chartVersion: "0.86.0",
      concurrent: 10,
      privileged: false,
      jobResources: { cpu: "500m", memory: "1Gi", memoryLimit: "4Gi" },
    });
  });

  it("observability only with the Prometheus operator; the backup CronJobs watched", () => {
    expect(observabilityProps(k3s, handle("gitlab"))).toMatchObject({
      runnerNamespace: "gitlab-runner",
      backupMaxAgeHours: 26,
      backupCronJobs: ["gitlab-toolbox-backup", "gitlab-secrets-export"],
      registry: true,
    });
    expect(
      observabilityProps(
        variant("k3s-homelab", (c) => (c.observability.prometheusOperator = false)),
        handle("gitlab"),
      ),
    ).toBeUndefined();
  });

  it("Argo CD when enabled: GitLab as the OIDC issuer by default, the bundled controller's class when bundled", () => {
    const issuer = { name: "le", ready: [] };
    expect(argoCdProps(k3s, vars, issuer)).toMatchObject({
      host: "argocd-k3s.example.com",
      ingressClassName: "traefik",
      sso: { issuer: "https://gitlab-k3s.example.com", clientId: "argocd", clientSecret: "${var.argocd_oidc_client_secret}", adminEmails: ["ops@example.com"] },
      application: { name: "homelab-apps", destinationNamespace: "apps" },
    });
    expect(argoCdProps(cluster, vars, issuer)).toBeUndefined();
    const bundled = variant("k3s-homelab", (c) => (c.kubernetes.ingress = { controller: "bundled" }));
    expect(argoCdProps(bundled, vars, issuer)?.ingressClassName).toBe(BUNDLED_INGRESS_CLASS);
  });
});
