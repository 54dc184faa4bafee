// The kubernetes platform (a single k3s node up to a production cluster): GitLab's Helm chart and the gitlab-runner chart
// on an existing cluster, from one k3s node to a production cluster.
import { z } from "zod";
import { gitlabSection } from "./gitlab";
import { gitlabVersionOfChart, chartOfGitlabVersion } from "./gitlab-chart";
import { cronSchedule, dnsLabel, emailAddress, hostOrIp, httpsUrl, pinnedImage } from "./primitives";
import { registrationFields } from "./runner-registration";
import { terraformVariableRef } from "./secrets";
import { alertThresholdsSection, prometheusBackupMaxAgeHours } from "./shared";

/** A Kubernetes object name (DNS-1123 subdomain), e.g. a Secret's. */
export const kubernetesName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a Kubernetes object name: lower-case letters, digits, '-' and '.'");

/** A namespace (DNS-1123 label). */
export const kubernetesNamespace = dnsLabel;

/** A Secret that already exists in the GitLab namespace (External Secrets, Sealed Secrets, …): its value never passes through Terraform. */
export const existingSecretRef = z
  .strictObject({
    kubernetesSecret: z
      .strictObject({
        name: kubernetesName.describe("Name of the Secret in the GitLab namespace."),
        key: z
          .string()
          .regex(/^[-._a-zA-Z0-9]{1,253}$/, "must be a Secret data key")
          .describe("Key in the Secret holding the value."),
      })
      .describe("An existing Secret in the GitLab namespace; the chart reads the value from it."),
  })
  .describe("Reference to an existing Kubernetes Secret (its value never enters Terraform state).");

/** Either a sensitive Terraform variable (a Secret is created from it) or an existing Secret. */
export const kubernetesSecretRef = z.union([terraformVariableRef, existingSecretRef], {
  error: "must be { terraformVariable: <name> } or { kubernetesSecret: { name: <secret>, key: <key> } }",
});

const chartVersion = z.string().regex(/^\d+\.\d+\.\d+$/, "must be an exact chart version like '9.9.1' (no ranges, no 'latest')");

/** GitLab as the chart ships it: 18.9.1 (images tagged v18.9.1). */
const chartGitlabVersion = z.string().regex(/^\d+\.\d+\.\d+$/, "must be the exact GitLab version the chart ships, like '18.9.1'");

const cpuQuantity = z.string().regex(/^\d+(\.\d+)?m?$/, "must be a CPU quantity like '500m' or '2'");
const memoryQuantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|K|M|G)$/, "must be a memory quantity like '900M' or '2Gi'");

const resources = z
  .strictObject({
    cpu: cpuQuantity.optional().describe("CPU request."),
    memory: memoryQuantity.optional().describe("Memory request."),
    memoryLimit: memoryQuantity.optional().describe("Memory limit (the pod is restarted above it)."),
  })
  .describe("Resource requests; unset fields follow gitlab.memoryProfile.");

const replicas = {
  minReplicas: z.int().min(1).max(100).optional().describe("@default 1 with memoryProfile 'small', else the chart's"),
  maxReplicas: z.int().min(1).max(100).optional().describe("@default 1 with memoryProfile 'small', else the chart's"),
  resources: resources.optional(),
};
const minNotAboveMax: [(d: { minReplicas?: number | undefined; maxReplicas?: number | undefined }) => boolean, { message: string; path: string[] }] = [
  (d) => d.minReplicas === undefined || d.maxReplicas === undefined || d.minReplicas <= d.maxReplicas,
  { message: "must satisfy minReplicas <= maxReplicas", path: ["maxReplicas"] },
];

const externalRedis = z
  .strictObject({
    host: hostOrIp.describe("Redis host, e.g. an ElastiCache primary endpoint."),
    port: z.int().min(1).max(65535).default(6379).describe("@default 6379"),
    password: kubernetesSecretRef.optional().describe("Reference to the Redis password. @default no password"),
    tls: z.boolean().default(false).describe("Connect with TLS (rediss://). @default false"),
  })
  .describe("Use an existing Redis instead of the chart's bundled one.");

export const kubernetesGitlabSection = gitlabSection(kubernetesSecretRef, { defaultSshPort: 22, version: chartGitlabVersion }).extend({
  chartVersion: chartVersion.describe("Exact version of GitLab's Helm chart (gitlab/gitlab); 9.x ships GitLab 18.x with the same minor and patch."),
  externalRedis: externalRedis.optional(),
  webservice: z
    .strictObject({ ...replicas, workers: z.int().min(1).max(16).optional().describe("Puma worker processes per pod. @default 2") })
    .refine(...minNotAboveMax)
    .optional()
    .describe("Puma (web and API) pods."),
  sidekiq: z
    .strictObject({
      ...replicas,
      concurrency: z.int().min(1).max(100).optional().describe("Threads per Sidekiq pod. @default 5 with memoryProfile 'small', else 20"),
    })
    .refine(...minNotAboveMax)
    .optional()
    .describe("Sidekiq (background jobs) pods."),
});

const storageSection = z
  .strictObject({
    provisioner: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[a-z0-9.-]+)?$/, "must be a provisioner name like 'rancher.io/local-path' or 'ebs.csi.aws.com'")
      .optional()
      .describe(
        "Provisioner of the StorageClass created for GitLab's volumes, with reclaimPolicy Retain (k3s: 'rancher.io/local-path'; EKS: 'ebs.csi.aws.com').",
      ),
    parameters: z.record(z.string(), z.string()).default({}).describe("Parameters of that StorageClass, e.g. { type: gp3, encrypted: 'true' }. @default {}"),
    existingClass: kubernetesName
      .optional()
      .describe(
        "Use this existing StorageClass instead. Its reclaim policy cannot be checked here: the K8S-PV-RETAIN policy flags it until suppressed with a reason.",
      ),
    gitalyGb: z.int().min(1).max(65536).default(50).describe("Gitaly's volume (repositories). @default 50"),
    postgresqlGb: z.int().min(1).max(65536).default(20).describe("The bundled PostgreSQL's volume. @default 20"),
    redisGb: z.int().min(1).max(1024).default(5).describe("The bundled Redis's volume. @default 5"),
  })
  .refine((s) => typeof s !== "object" || s === null || (s.provisioner === undefined) !== (s.existingClass === undefined), {
    message: "set exactly one of provisioner (a Retain StorageClass is created) and existingClass",
    path: ["provisioner"],
    when: () => true,
  })
  .describe("Volumes of the stateful components (Gitaly, bundled PostgreSQL and Redis).");

const ingressSection = z
  .discriminatedUnion("controller", [
    z.strictObject({
      controller: z.literal("existing").describe("An ingress controller the cluster already runs (k3s: Traefik)."),
      className: kubernetesName.describe("Its IngressClass, e.g. 'traefik' or 'nginx'. Annotations follow Traefik's when it is 'traefik', nginx's otherwise."),
    }),
    z.strictObject({ controller: z.literal("bundled").describe("The chart's own NGINX ingress controller, behind a LoadBalancer Service.") }),
  ])
  .describe("How web traffic reaches GitLab, the registry and Argo CD.");

const certManagerSection = z
  .strictObject({
    install: z.boolean().default(false).describe("Install cert-manager (jetstack chart) here; false uses the cluster's. @default false"),
    chartVersion: z
      .string()
      .regex(/^v\d+\.\d+\.\d+$/, "must be an exact cert-manager chart version like 'v1.21.1'")
      .default("v1.21.1")
      .describe("@default 'v1.21.1'"),
    namespace: kubernetesNamespace
      .default("cert-manager")
      .describe("cert-manager's namespace: the ClusterIssuer's Cloudflare token Secret lives there. @default 'cert-manager'"),
  })
  .describe("cert-manager issues the TLS certificates: Let's Encrypt by DNS-01 through Cloudflare.");

const argocdSection = z
  .strictObject({
    enabled: z.boolean().default(false).describe("Install Argo CD beside GitLab, signed in through GitLab. @default false"),
    chartVersion: chartVersion.default("10.1.1").describe("argo-cd chart (argoproj). @default '10.1.1' (Argo CD v3.4.4)"),
    namespace: kubernetesNamespace.default("argocd").describe("@default 'argocd'"),
    hostname: dnsLabel.default("argocd").describe("Argo CD's host name under the domain. @default 'argocd'"),
    sso: z
      .strictObject({
        issuer: httpsUrl
          .optional()
          .describe("OIDC issuer. @default this environment's GitLab (an OIDC provider: create an application with scopes openid, profile, email)"),
        clientId: z.string().min(1).describe("OIDC client id (GitLab: the application id)."),
        clientSecret: terraformVariableRef.describe("Variable holding the OIDC client secret."),
        adminEmails: z.array(emailAddress).default([]).describe("Users made Argo CD admins; everyone else who signs in reads only. @default []"),
      })
      .optional()
      .describe("Single sign-on; without it only Argo CD's local admin signs in."),
    application: z
      .strictObject({
        name: kubernetesName.describe("Name of the Argo CD Application."),
        repoUrl: z
          .string()
          .regex(/^(https:\/\/|ssh:\/\/|git@)\S+$/, "must be a Git URL (https://, ssh:// or git@)")
          .describe("Repository Argo CD syncs from."),
        path: z
          .string()
          .regex(/^[A-Za-z0-9._/-]+$/, "must be a path inside the repository")
          .describe("Directory of manifests in it."),
        targetRevision: z.string().min(1).default("main").describe("Branch, tag or commit. @default 'main'"),
        namespace: kubernetesNamespace.describe("Namespace the manifests are deployed into (created if missing)."),
      })
      .optional()
      .describe("The one Application Argo CD syncs, from a path in a repository."),
  })
  .refine((a) => !a.enabled || a.application !== undefined, { message: "is required when argocd is enabled", path: ["application"] })
  .describe("Argo CD beside GitLab, with its ingress, SSO and one Application.");

const lbAddress = z
  .string()
  .regex(
    /^((\d{1,3}\.){3}\d{1,3}|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/,
    "must be an IPv4 address (A record) or a host name (CNAME record), e.g. a cloud load balancer's",
  );

export const kubernetesSection = z
  .strictObject({
    kubeconfig: z
      .strictObject({
        path: z
          .string()
          .regex(/^(~|\/)[^\s]*$/, "must be an absolute path or start with ~/")
          .optional()
          .describe("kubeconfig file. @default KUBE_CONFIG_PATH from the environment (CI: a File variable)"),
        context: z
          .string()
          .regex(/^[A-Za-z0-9@:/_.-]{1,253}$/, "must be a kubeconfig context name")
          .describe("Context naming the cluster and credentials."),
      })
      .describe("How Terraform reaches the cluster (at plan time too)."),
    namespace: kubernetesNamespace.default("gitlab").describe("GitLab's namespace. @default 'gitlab'"),
    storage: storageSection,
    ingress: ingressSection,
    certManager: certManagerSection.prefault({}),
    loadBalancerAddress: lbAddress.describe("Address web traffic reaches the ingress controller at; the web records point at it."),
    sshLoadBalancerAddress: lbAddress
      .optional()
      .describe("Address of GitLab Shell's LoadBalancer Service (git SSH). @default loadBalancerAddress (k3s: every LoadBalancer shares the node's address)"),
    argocd: argocdSection.prefault({}),
  })
  .describe("The existing cluster and what the platform installs around GitLab.");

const bucketPrefix = z.string().regex(/^[a-z0-9][a-z0-9-]{2,40}[a-z0-9]$/, "must be 4-42 lower-case letters, digits or '-' (bucket names are global on S3)");

export const objectStorageSection = z
  .strictObject({
    endpoint: httpsUrl.optional().describe("An S3-compatible service (MinIO on a NAS, Ceph RGW), e.g. 'https://s3.nas.example.com'. @default AWS S3"),
    region: z
      .string()
      .regex(/^[a-z0-9-]{2,32}$/, "must be a region like 'eu-west-3'")
      .default("us-east-1")
      .describe("@default 'us-east-1'"),
    pathStyle: z.boolean().default(false).describe("Path-style bucket URLs (most S3-compatible services). @default false"),
    bucketPrefix: bucketPrefix.describe(
      "The buckets (created beforehand, private) are <prefix>-artifacts, -lfs, -uploads, -packages, -mr-diffs, -terraform-state, -ci-secure-files, -dependency-proxy, -registry, -backups and -backups-tmp.",
    ),
    credentials: z
      .union(
        [
          z.strictObject({
            iamRoleArn: z
              .string()
              .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]+$/, "must be an IAM role ARN")
              .describe("IAM role for GitLab's service accounts (EKS IRSA): no keys anywhere."),
          }),
          z.strictObject({
            accessKeyId: terraformVariableRef.describe("Variable holding the access key id."),
            secretAccessKey: terraformVariableRef.describe("Variable holding the secret access key."),
          }),
        ],
        { error: "must be { iamRoleArn: … } or { accessKeyId: { terraformVariable: … }, secretAccessKey: { terraformVariable: … } }" },
      )
      .describe("How GitLab, the registry and the backups authenticate."),
  })
  .refine(
    (o) => typeof o !== "object" || o === null || !(o.endpoint && typeof o.credentials === "object" && o.credentials !== null && "iamRoleArn" in o.credentials),
    {
      message: "IAM roles (IRSA) need AWS's own endpoints: leave objectStorage.endpoint out",
      path: ["endpoint"],
      when: () => true,
    },
  )
  .describe(
    "S3 or S3-compatible storage outside the cluster for artifacts, LFS, uploads, packages, registry images and backups. The chart's bundled MinIO is not used: it would keep the backups on the cluster they protect.",
  );

export const kubernetesRunnersSection = z
  .strictObject({
    chartVersion: chartVersion.describe("Exact gitlab-runner chart version, e.g. '0.86.0' (gitlab-runner 18.9.0)."),
    token: z
      .unknown()
      .refine((v) => v === undefined, {
        message:
          "no longer used: the `<env>-gitlab` stack registers the runner (gitlab_user_runner) and writes its token into the runner's Secret. Remove this key and its TF_VAR_ variable",
      })
      .optional()
      .describe("Removed: the runner's token comes from the gitlab_user_runner of the `<env>-gitlab` stack."),
    // One runner for the cluster: untagged jobs run here, as on the runner created by hand before.
    ...registrationFields({ tags: ["kubernetes"], protected: false, runUntagged: true }),
    namespace: kubernetesNamespace
      .default("gitlab-runner")
      .describe("Namespace of the runner and its job pods, apart from GitLab's secrets. @default 'gitlab-runner'"),
    concurrent: z.int().min(1).max(64).default(4).describe("Jobs at once. @default 4"),
    jobImage: pinnedImage.default("alpine:3.20").describe("@default 'alpine:3.20'"),
    privileged: z.boolean().default(false).describe("Privileged job pods (Docker-in-Docker). A privileged pod is root on its node. @default false"),
    jobResources: resources.optional().describe("Requests (and memory limit) of each job's build container. @default 100m CPU, 256Mi"),
  })
  .describe("GitLab Runner with the Kubernetes executor: every job a pod (gitlab-runner chart).");

export const kubernetesBackupsSection = z
  .strictObject({
    schedule: cronSchedule.default("0 2 * * *").describe("When the toolbox's backup CronJob runs, as cron in UTC. @default '0 2 * * *'"),
    secretsBucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a bucket name")
      .describe("Bucket for the exported Rails secret and SSH host keys (gitlab-secrets.json's equivalent), apart from the backups (GitLab's advice)."),
    maxAgeHours: prometheusBackupMaxAgeHours,
    scratchGb: z.int().min(1).max(16384).default(20).describe("Scratch volume of the backup job (an ephemeral volume). @default 20"),
  })
  .describe("The chart's toolbox backup CronJob to <objectStorage.bucketPrefix>-backups, plus a separate export of the secrets a restore needs.");

export const kubernetesObservabilitySection = z
  .strictObject({
    prometheusOperator: z
      .boolean()
      .default(false)
      .describe(
        "The cluster runs the Prometheus operator (kube-prometheus-stack): create ServiceMonitors, PodMonitors and a PrometheusRule with the platform's alert rules. @default false",
      ),
    selectorLabels: z
      .record(z.string().regex(/^[A-Za-z0-9._/-]{1,63}$/), z.string().max(63))
      .default({})
      .describe("Labels your Prometheus selects monitors and rules by, e.g. { release: kube-prometheus-stack }. @default {}"),
    alertThresholds: alertThresholdsSection.prefault({}),
  })
  .describe("Metrics and alerts through the cluster's Prometheus operator.");

export const kubernetesTlsSection = z
  .strictObject({
    acmeEmail: emailAddress.describe("Let's Encrypt account e-mail of the ClusterIssuer."),
    acmeStaging: z.boolean().default(false).describe("Let's Encrypt's staging CA (untrusted certificates) while testing. @default false"),
  })
  .describe("cert-manager's ClusterIssuer: Let's Encrypt certificates by DNS-01 through Cloudflare.");

/** The chart and GitLab versions agree (refined at the environment level, where both are known). */
export function chartVersionProblem(chart: unknown, gitlab: unknown): string | undefined {
  // A malformed version is reported at its own field.
  const exact = /^\d+\.\d+\.\d+$/;
  if (typeof chart !== "string" || typeof gitlab !== "string" || !exact.test(chart) || !exact.test(gitlab)) return undefined;
  const shipped = gitlabVersionOfChart(chart);
  if ("problem" in shipped) return shipped.problem;
  if (shipped.gitlab === gitlab) return undefined;
  const other = chartOfGitlabVersion(gitlab);
  return `chart ${chart} ships GitLab ${shipped.gitlab}, not ${gitlab}: set gitlab.version to ${shipped.gitlab}${other ? `, or chartVersion to ${other} (the chart that ships ${gitlab})` : ""}`;
}

export const kubernetesDnsNote =
  "On kubernetes the records point at the ingress controller's load balancer; proxied, the zone's SSL mode (not managed here) must be Full (strict). @default false";
