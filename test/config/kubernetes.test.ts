// The kubernetes platform's config: the two examples as the seeds size them, and the mistakes
// the schema refuses with a message naming the field.
import { describe, expect, it } from "vitest";
import { chartOfGitlabVersion, gitlabVersionOfChart } from "../../config/schema/gitlab-chart";
import { deepClone, exampleEnvironment, exampleYaml, problemsOf, validEnvironment } from "../helpers";

const k3s = () => deepClone(exampleYaml("k3s-homelab"));
const cluster = () => deepClone(exampleYaml("cluster"));

function kubernetesEnv(name: string) {
  const env = exampleEnvironment(name);
  if (env.platform !== "kubernetes") throw new Error(`${name} must be kubernetes`);
  return env;
}

describe("kubernetes examples", () => {
  it("k3s-homelab is the reference k3s host: one node, low-memory profile, bundled PostgreSQL and Redis, Argo CD, git SSH on 2222", () => {
    const env = kubernetesEnv("k3s-homelab");
    expect(env.gitlab).toMatchObject({ version: "18.9.1", chartVersion: "9.9.1", memoryProfile: "small", sshPort: 2222 });
    expect(env.gitlab.externalDatabase).toBeUndefined();
    expect(env.gitlab.externalRedis).toBeUndefined();
    expect(env.kubernetes.storage).toMatchObject({ provisioner: "rancher.io/local-path" });
    expect(env.kubernetes.ingress).toEqual({ controller: "existing", className: "traefik" });
    expect(env.kubernetes.certManager.install).toBe(true);
    expect(env.kubernetes.argocd).toMatchObject({ enabled: true, chartVersion: "10.1.1", application: { path: "apps/k3s-homelab" } });
    expect(env.runners).toMatchObject({ chartVersion: "0.86.0", privileged: false, tags: ["kubernetes"], protected: false, runUntagged: true });
  });

  it("cluster is the production shape: external PostgreSQL and Redis, S3 through IRSA, replicas and requests", () => {
    const env = kubernetesEnv("cluster");
    expect(env.gitlab.externalDatabase?.password).toEqual({ kubernetesSecret: { name: "gitlab-postgresql", key: "password" } });
    expect(env.gitlab.externalRedis).toMatchObject({ tls: true, password: { kubernetesSecret: { name: "gitlab-redis", key: "password" } } });
    expect(env.objectStorage.credentials).toEqual({ iamRoleArn: "arn:aws:iam::222222222222:role/cluster-gitlab" });
    expect(env.gitlab.webservice).toMatchObject({ minReplicas: 3, maxReplicas: 6, workers: 4 });
    expect(env.gitlab.sidekiq).toMatchObject({ minReplicas: 2, maxReplicas: 4 });
    expect(env.kubernetes.sshLoadBalancerAddress).toMatch(/elb\.eu-west-3\.amazonaws\.com$/);
  });
});

describe("the chart pins the GitLab version it ships", () => {
  it("maps chart 9.x to GitLab 18.x with the same minor and patch, and refuses other lines", () => {
    expect(gitlabVersionOfChart("9.9.1")).toEqual({ gitlab: "18.9.1" });
    expect(gitlabVersionOfChart("9.0.0")).toEqual({ gitlab: "18.0.0" });
    expect(gitlabVersionOfChart("8.11.8")).toEqual({
      problem: "chart 8.11.8 is not supported: this platform renders values for GitLab's chart 9.x (GitLab 18.x)",
    });
    expect(chartOfGitlabVersion("18.8.4")).toBe("9.8.4");
    expect(chartOfGitlabVersion("17.11.7")).toBeUndefined();
  });

  it("refuses a chart that ships another GitLab, naming both ways to fix it", () => {
    const c = k3s();
    c.gitlab.version = "18.8.4";
    expect(problemsOf(c, "k3s-homelab")).toEqual([
      expect.stringMatching(
        /^config\/k3s-homelab\.yaml: gitlab\.chartVersion: chart 9\.9\.1 ships GitLab 18\.9\.1, not 18\.8\.4: set gitlab\.version to 18\.9\.1, or chartVersion to 9\.8\.4 \(the chart that ships 18\.8\.4\)/,
      ),
    ]);
  });

  it("refuses an Omnibus-style version and a chart range", () => {
    const c = k3s();
    c.gitlab.version = "18.9.1-ce.0";
    c.gitlab.chartVersion = "~9.9";
    expect(problemsOf(c)).toEqual([
      expect.stringMatching(/gitlab\.version: must be the exact GitLab version the chart ships, like '18\.9\.1'/),
      expect.stringMatching(/gitlab\.chartVersion: must be an exact chart version like '9\.9\.1'/),
    ]);
  });
});

describe("kubernetes config mistakes", () => {
  const cases: { what: string; edit: (c: any) => void; expected: RegExp }[] = [
    {
      what: "an existing Secret for the OIDC client secret (the chart needs the whole provider block)",
      edit: (c) => (c.gitlab.sso.clientSecret = { kubernetesSecret: { name: "oidc", key: "secret" } }),
      expected: /gitlab\.sso\.clientSecret: must be \{ terraformVariable: … \} on kubernetes/,
    },
    {
      what: "a secret reference of neither kind",
      edit: (c) => (c.gitlab.smtp.password = { vault: "x" }),
      expected: /gitlab\.smtp\.password: must be \{ terraformVariable: <name> \} or \{ kubernetesSecret: \{ name: <secret>, key: <key> \} \}/,
    },
    {
      what: "Argo CD on GitLab's host name",
      edit: (c) => (c.kubernetes.argocd.hostname = "registry-k3s"),
      expected: /kubernetes\.argocd\.hostname: is 'registry-k3s', a host name GitLab already uses/,
    },
    {
      what: "Argo CD without its Application",
      edit: (c) => delete c.kubernetes.argocd.application,
      expected: /kubernetes\.argocd\.application: is required when argocd is enabled/,
    },
    {
      what: "the secrets copy in the backups' own bucket",
      edit: (c) => (c.backups.secretsBucket = "k3s-homelab-gitlab-backups"),
      expected: /backups\.secretsBucket: must not be one of the platform's buckets \(k3s-homelab-gitlab-…\)/,
    },
    {
      what: "both a provisioner and an existing StorageClass",
      edit: (c) => (c.kubernetes.storage.existingClass = "local-path"),
      expected: /kubernetes\.storage\.provisioner: set exactly one of provisioner/,
    },
    {
      what: "git SSH on 443 of the ingress controller's address",
      edit: (c) => (c.gitlab.sshPort = 443),
      expected: /gitlab\.sshPort: must not be 80 or 443 while git SSH shares the ingress controller's address/,
    },
    {
      what: "an ingress controller of neither kind",
      edit: (c) => (c.kubernetes.ingress = { controller: "istio" }),
      expected: /kubernetes\.ingress\.controller/,
    },
    {
      what: "an unpinned cert-manager chart",
      edit: (c) => (c.kubernetes.certManager.chartVersion = "latest"),
      expected: /kubernetes\.certManager\.chartVersion: must be an exact cert-manager chart version like 'v1\.21\.1'/,
    },
    {
      what: "a runner token pasted in",
      edit: (c) => (c.runners.token = "glrt-AbCdEfGhIjKlMnOpQrSt"),
      expected: /runners\.token: looks like a GitLab runner authentication token pasted into config; .*kubernetesSecret/,
    },
    {
      what: "an S3 endpoint with an IAM role (IRSA needs AWS's STS endpoints)",
      edit: (c) => (c.objectStorage.credentials = { iamRoleArn: "arn:aws:iam::222222222222:role/x" }),
      expected: /objectStorage\.endpoint: IAM roles \(IRSA\) need AWS's own endpoints/,
    },
    {
      what: "the objectStorage section on another platform",
      edit: (c) => {
        c.platform = "docker";
      },
      expected: /kubernetes: only valid when platform is 'kubernetes'/,
    },
  ];

  it.each(cases)("$what", ({ edit, expected }) => {
    const c = k3s();
    edit(c);
    expect(problemsOf(c)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it("accepts an existing Secret for the database, Redis and SMTP passwords", () => {
    const c = cluster();
    const env = validEnvironment(c, "cluster");
    if (env.platform !== "kubernetes") throw new Error("kubernetes");
    expect(env.gitlab.smtp?.password).toEqual({ kubernetesSecret: { name: "gitlab-smtp", key: "password" } });
  });

  it("replica bounds in order", () => {
    const c = cluster();
    c.gitlab.webservice.minReplicas = 8;
    expect(problemsOf(c)).toEqual([expect.stringMatching(/gitlab\.webservice\.maxReplicas: must satisfy minReplicas <= maxReplicas/)]);
  });
});
