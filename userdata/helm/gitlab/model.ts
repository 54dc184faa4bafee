// What the GitLab chart's values are rendered from: a typed model, one part per concern.
// Secrets appear only as SecretKeyRefs (a Secret's name and key), never as values.
import type { SecretKeyRef } from "../values";

export type MemoryProfile = "standard" | "small";

/** Fully qualified host names. */
export interface ChartHosts {
  /** The environment's domain (global.hosts.domain). */
  readonly domain: string;
  readonly gitlab: string;
  readonly ssh: string;
  /** The registry's, when it is enabled. */
  readonly registry?: string;
}

export type ChartIngress =
  /** The cluster's ingress controller, by IngressClass. */
  | { readonly controller: "existing"; readonly className: string }
  /** The chart's own NGINX controller behind a LoadBalancer Service. */
  | { readonly controller: "bundled"; readonly loadBalancerIP?: string };

export interface ChartEndpoints {
  readonly hosts: ChartHosts;
  readonly ingress: ChartIngress;
  /** cert-manager ClusterIssuer that signs every Ingress's certificate. */
  readonly clusterIssuer: string;
  /** git SSH: GitLab Shell's LoadBalancer Service listens on this port. */
  readonly sshPort: number;
  /** The address that Service asks for, when it is a fixed IP. */
  readonly sshLoadBalancerIP?: string;
}

export interface ResourceSettings {
  readonly cpu?: string;
  readonly memory?: string;
  readonly memoryLimit?: string;
}

export interface DeploymentScale {
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
  readonly resources?: ResourceSettings;
}

export interface ChartSizing {
  readonly memoryProfile: MemoryProfile;
  readonly webservice?: DeploymentScale & { readonly workers?: number };
  readonly sidekiq?: DeploymentScale & { readonly concurrency?: number };
}

export interface ExternalDatabase {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly username: string;
  readonly password: SecretKeyRef;
  readonly sslMode: "disable" | "prefer" | "require" | "verify-full";
}

export interface ExternalRedis {
  readonly host: string;
  readonly port: number;
  readonly password?: SecretKeyRef;
  readonly tls: boolean;
}

/** A volume of the cluster's (Retain) StorageClass. */
export interface ChartVolume {
  readonly storageClass: string;
  readonly sizeGi: number;
}

export interface ChartDataServices {
  /** Repositories. */
  readonly gitaly: ChartVolume;
  readonly database: { readonly external: ExternalDatabase } | { readonly bundled: ChartVolume };
  readonly redis: { readonly external: ExternalRedis } | { readonly bundled: ChartVolume };
}

export interface ChartObjectStorage {
  /** The Rails connection Secret (provider, region, keys or use_iam_profile). */
  readonly connection: SecretKeyRef;
  /** Buckets are <prefix>-artifacts, -lfs, … (see OBJECT_BUCKETS). */
  readonly bucketPrefix: string;
  /** IAM role of GitLab's service accounts (EKS IRSA). @default keys in the connection Secret */
  readonly iamRoleArn?: string;
}

export interface ChartMail {
  readonly emailFrom: string;
  readonly smtp?: {
    readonly host: string;
    readonly port: number;
    readonly username: string;
    readonly password: SecretKeyRef;
    readonly security: "starttls" | "tls" | "none";
    readonly domain: string;
  };
}

export interface ChartSso {
  /** Secret holding the OpenID Connect provider block (the client secret inside it). */
  readonly provider: SecretKeyRef;
  /** Send the sign-in page straight to the provider. */
  readonly autoSignIn: boolean;
  /** Link an IdP user to the existing account with the same e-mail (off: see the README's "Single sign-on"). */
  readonly autoLinkUsers: boolean;
  /** New SSO accounts wait for an admin's approval. */
  readonly blockAutoCreatedUsers: boolean;
}

/** The GitLab server's own part of the chart's values. */
export interface GitLabChartSettings {
  readonly endpoints: ChartEndpoints;
  readonly timeZone: string;
  readonly sizing: ChartSizing;
  readonly data: ChartDataServices;
  readonly objectStorage: ChartObjectStorage;
  readonly mail: ChartMail;
  readonly sso?: ChartSso;
}
