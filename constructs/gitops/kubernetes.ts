// Argo CD beside GitLab (optional): its chart pinned, its ingress with a
// cert-manager certificate, OpenID Connect single sign-on (GitLab by default), and the one
// Application config names. Nothing more: what Argo CD deploys lives in that repository.
import { Construct } from "constructs";
import { argoCdChartValues } from "../../userdata/helm/argocd-values";
import { argoCdApplication, type ArgoCdApplicationSettings } from "../../userdata/kubernetes/argocd-application";
import type { ClusterIssuerHandle } from "../dns-tls/kubernetes";
import { CHARTS, PlatformManifest, PlatformNamespace, PlatformRelease, PlatformSecret } from "../kubernetes-conventions";

export interface KubernetesArgoCdProps {
  readonly namespace: string;
  readonly chartVersion: string;
  readonly host: string;
  readonly ingressClassName: string;
  readonly issuer: ClusterIssuerHandle;
  /** The client secret is a Terraform reference. */
  readonly sso?: { readonly issuer: string; readonly clientId: string; readonly clientSecret: string; readonly adminEmails: readonly string[] };
  readonly application: Omit<ArgoCdApplicationSettings, "argocdNamespace">;
}

export class KubernetesArgoCd extends Construct {
  readonly release: PlatformRelease;
  readonly application: PlatformManifest;
  readonly url: string;

  constructor(scope: Construct, id: string, props: KubernetesArgoCdProps) {
    super(scope, id);
    this.url = `https://${props.host}`;
    const namespace = new PlatformNamespace(this, "namespace", { name: props.namespace, stateful: false });
    // Argo CD reads `$<secret>:<key>` only from Secrets labelled as its own.
    const secret = props.sso
      ? new PlatformSecret(this, "oidc", {
          namespace,
          name: "argocd-oidc",
          data: { clientSecret: props.sso.clientSecret },
          labels: { "app.kubernetes.io/part-of": "argocd" },
        })
      : undefined;
    this.release = new PlatformRelease(this, "chart", {
      chart: CHARTS.argoCd,
      version: props.chartVersion,
      name: "argocd",
      namespace,
      values: argoCdChartValues({
        host: props.host,
        ingressClassName: props.ingressClassName,
        clusterIssuer: props.issuer.name,
        ...(props.sso && secret ? { sso: { ...props.sso, clientSecret: secret.ref("clientSecret") } } : {}),
      }),
      source: "userdata/helm/argocd-values.ts",
      dependsOn: [...(secret ? [secret.resource] : []), ...props.issuer.ready],
    });
    // Its CRD comes with the release.
    this.application = new PlatformManifest(this, "application", argoCdApplication({ ...props.application, argocdNamespace: props.namespace }), [
      this.release.release,
    ]);
  }
}
