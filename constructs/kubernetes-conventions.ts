// What every resource of the kubernetes platform has in common: the charts it installs (each
// pinned by config), Helm releases whose values come from the typed renderers, namespaces,
// Secrets made from sensitive variables (or existing ones named), and custom resources.
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { SecretV1 } from "@cdktf/provider-kubernetes/lib/secret-v1";
import { Release } from "@cdktf/provider-helm/lib/release";
import { Token, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { renderValues, type HelmValues, type SecretKeyRef } from "../userdata/helm/values";
import type { KubernetesManifest } from "../userdata/kubernetes/manifest";
import { terraformLiteral } from "./terraform-literal";

/** Label on everything the platform creates in a cluster. */
export const MANAGED_BY = { "app.kubernetes.io/managed-by": "gitlab-platform" } as const;
/** A namespace holding data or secrets nothing else has (the chart's generated Rails secret, volumes). */
export const STATEFUL_LABEL = "gitlab-platform/stateful";

/** A chart the platform installs, from its publisher's repository. */
export interface HelmChart {
  readonly repository: string;
  readonly chart: string;
}

export const CHARTS = {
  gitlab: { repository: "https://charts.gitlab.io", chart: "gitlab" },
  gitlabRunner: { repository: "https://charts.gitlab.io", chart: "gitlab-runner" },
  argoCd: { repository: "https://argoproj.github.io/argo-helm", chart: "argo-cd" },
  certManager: { repository: "https://charts.jetstack.io", chart: "cert-manager" },
} as const satisfies Record<string, HelmChart>;

/** A secret as config gives it: a Terraform reference to its value, or an existing Secret. */
export type SecretInput = { readonly value: string } | { readonly existing: SecretKeyRef };

/** Throws unless `value` is a Terraform reference (a sensitive variable's value), never a literal. */
export function requireReference(value: string, what: string): string {
  if (!Token.isUnresolved(value)) {
    throw new Error(`${what} must be a Terraform reference (a sensitive variable's value), not a literal: secrets are never written into the configuration`);
  }
  return value;
}

/** Throws unless S3 credentials are Terraform references (or an IAM role: none at all). */
export function requireS3References(credentials: { readonly iamRole: true } | { readonly accessKeyId: string; readonly secretAccessKey: string }): void {
  if ("iamRole" in credentials) return;
  requireReference(credentials.accessKeyId, "the S3 access key id");
  requireReference(credentials.secretAccessKey, "the S3 secret access key");
}

export interface PlatformNamespaceProps {
  readonly name: string;
  /** It holds what cannot be recreated: destroy is refused (lifecycle.prevent_destroy). */
  readonly stateful: boolean;
}

export class PlatformNamespace extends Construct {
  readonly name: string;
  readonly resource: NamespaceV1;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    this.name = props.name;
    this.resource = new NamespaceV1(this, "namespace", {
      metadata: { name: props.name, labels: { ...MANAGED_BY, ...(props.stateful ? { [STATEFUL_LABEL]: "true" } : {}) } },
      lifecycle: props.stateful ? { preventDestroy: true } : undefined,
    });
  }
}

export interface PlatformSecretProps {
  readonly namespace: PlatformNamespace | { readonly name: string; readonly resource?: ITerraformDependable };
  readonly name: string;
  /** Key → a Terraform expression of the value (a variable, or a jsonencode of references). */
  readonly data: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A Secret written from Terraform references; what the charts see is its name and keys. */
export class PlatformSecret extends Construct {
  readonly name: string;
  readonly resource: SecretV1;
  private readonly keys: ReadonlySet<string>;

  constructor(scope: Construct, id: string, props: PlatformSecretProps) {
    super(scope, id);
    // Every value is a reference; an empty string is allowed (a key a chart wants present, unused).
    for (const [key, value] of Object.entries(props.data)) if (value !== "") requireReference(value, `Secret ${props.name} key ${key}`);
    this.name = props.name;
    this.keys = new Set(Object.keys(props.data));
    this.resource = new SecretV1(this, "secret", {
      metadata: { name: props.name, namespace: props.namespace.name, labels: { ...MANAGED_BY, ...props.labels } },
      data: { ...props.data },
      dependsOn: props.namespace.resource ? [props.namespace.resource] : undefined,
    });
  }

  ref(key: string): SecretKeyRef {
    if (!this.keys.has(key)) throw new Error(`Secret ${this.name} has no key ${key}`);
    return { secret: this.name, key };
  }
}

/** The Secret a chart should read `input` from: the existing one, or one written here. */
export function secretFrom(
  scope: Construct,
  id: string,
  input: SecretInput,
  target: { namespace: PlatformNamespace; name: string; key: string },
): { ref: SecretKeyRef; resource?: SecretV1 } {
  if ("existing" in input) return { ref: input.existing };
  const secret = new PlatformSecret(scope, id, { namespace: target.namespace, name: target.name, data: { [target.key]: input.value } });
  return { ref: secret.ref(target.key), resource: secret.resource };
}

export interface PlatformReleaseProps {
  readonly chart: HelmChart;
  /** Exact chart version (config pins it). */
  readonly version: string;
  readonly name: string;
  /** The namespace: this stack's, or one the first stack made (by name). */
  readonly namespace: PlatformNamespace | { readonly name: string; readonly resource?: ITerraformDependable };
  readonly values: HelmValues;
  /** Where the values come from, for the header of the values document. */
  readonly source: string;
  /** Seconds Helm waits for the release to be ready. @default 600 */
  readonly timeoutSeconds?: number;
  readonly dependsOn?: readonly ITerraformDependable[];
  /** Values that are Terraform references (never secrets: policy K8S-SECRETS-AS-REFERENCES), beside the literal values. @default none */
  readonly set?: readonly { readonly name: string; readonly value: string }[];
}

/** A Helm release of a pinned chart into the platform's namespace, values from a renderer. */
export class PlatformRelease extends Construct {
  readonly release: Release;
  readonly name: string;
  readonly namespace: string;

  constructor(scope: Construct, id: string, props: PlatformReleaseProps) {
    super(scope, id);
    this.name = props.name;
    this.namespace = props.namespace.name;
    this.release = new Release(this, "release", {
      name: props.name,
      namespace: props.namespace.name,
      repository: props.chart.repository,
      chart: props.chart.chart,
      version: props.version,
      // The values are literal text: Terraform must not read ${…} in them.
      values: [terraformLiteral(renderValues(props.values, props.source))],
      createNamespace: false,
      wait: true,
      timeout: props.timeoutSeconds ?? 600,
      maxHistory: 10,
      ...(props.set?.length ? { set: props.set.map((s) => ({ name: s.name, value: s.value })) } : {}),
      dependsOn: [...(props.namespace.resource ? [props.namespace.resource] : []), ...(props.dependsOn ?? [])],
    });
  }
}

/** Every string of a manifest escaped for Terraform's templates (alert annotations hold `{{ … }}` and `%`). */
function literal(value: unknown): unknown {
  if (typeof value === "string") return terraformLiteral(value);
  if (Array.isArray(value)) return value.map(literal);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, literal(v)]));
  return value;
}

/** A custom resource (kubernetes_manifest). Its CRD must exist at plan time. */
export class PlatformManifest extends Construct {
  readonly resource: Manifest;
  readonly manifest: KubernetesManifest;

  constructor(scope: Construct, id: string, manifest: KubernetesManifest, dependsOn: readonly ITerraformDependable[] = []) {
    super(scope, id);
    this.manifest = manifest;
    const labelled = { ...manifest, metadata: { ...manifest.metadata, labels: { ...MANAGED_BY, ...manifest.metadata.labels } } };
    this.resource = new Manifest(this, "manifest", { manifest: literal(labelled) as Record<string, unknown>, dependsOn: [...dependsOn] });
  }
}
