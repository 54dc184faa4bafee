// DNS and TLS on the kubernetes platform: cert-manager (installed here, or the cluster's) with
// a ClusterIssuer that gets Let's Encrypt certificates by DNS-01 through Cloudflare, and the
// Cloudflare records: the web names on the ingress controller's load balancer (proxied per
// config), git SSH on GitLab Shell's (always DNS-only).
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { certManagerChartValues } from "../../userdata/helm/cert-manager-values";
import { clusterIssuer } from "../../userdata/kubernetes/cluster-issuer";
import { CHARTS, PlatformManifest, PlatformNamespace, PlatformRelease, PlatformSecret } from "../kubernetes-conventions";
import { CloudflareRecords, type HostRecord } from "./records";

export interface KubernetesDnsTlsProps {
  readonly zoneId: string;
  /** Cloudflare API token: a Terraform reference (a sensitive variable's value). */
  readonly cloudflareApiToken: string;
  /** Zone the issuer answers DNS-01 challenges in. */
  readonly domain: string;
  /** The ingress controller's load balancer (IPv4 or host name). */
  readonly webAddress: string;
  /** GitLab Shell's load balancer. */
  readonly sshAddress: string;
  /** Proxy the web names through Cloudflare. */
  readonly proxied: boolean;
  /** Web host names by record id (GitLab, registry, Argo CD). */
  readonly webHosts: readonly { readonly id: string; readonly name: string }[];
  readonly sshHost: string;
  readonly certManager: { readonly install: boolean; readonly chartVersion: string; readonly namespace: string };
  readonly acme: { readonly email: string; readonly staging: boolean };
  /** Name of the ClusterIssuer (cluster-wide: one per environment). */
  readonly issuerName: string;
}

/** The ClusterIssuer, for whoever annotates an Ingress with it. */
export interface ClusterIssuerHandle {
  readonly name: string;
  /** Resources an Ingress using it waits for. */
  readonly ready: readonly ITerraformDependable[];
}

export class KubernetesDnsTls extends Construct {
  readonly issuer: ClusterIssuerHandle;
  readonly records: CloudflareRecords;
  readonly certManager?: PlatformRelease;

  constructor(scope: Construct, id: string, props: KubernetesDnsTlsProps) {
    super(scope, id);
    const namespace = props.certManager.install
      ? new PlatformNamespace(this, "cert-manager-namespace", { name: props.certManager.namespace, stateful: false })
      : { name: props.certManager.namespace };
    if (namespace instanceof PlatformNamespace) {
      this.certManager = new PlatformRelease(this, "cert-manager", {
        chart: CHARTS.certManager,
        version: props.certManager.chartVersion,
        name: "cert-manager",
        namespace,
        values: certManagerChartValues(),
        source: "userdata/helm/cert-manager-values.ts",
      });
    }
    const token = new PlatformSecret(this, "cloudflare-token", {
      namespace,
      name: `${props.issuerName}-cloudflare-token`,
      data: { "api-token": props.cloudflareApiToken },
    });
    const issuer = new PlatformManifest(
      this,
      "cluster-issuer",
      clusterIssuer({
        name: props.issuerName,
        email: props.acme.email,
        staging: props.acme.staging,
        cloudflareToken: token.ref("api-token"),
        dnsZones: [props.domain],
      }),
      [token.resource, ...(this.certManager ? [this.certManager.release] : [])],
    );
    this.issuer = { name: props.issuerName, ready: [issuer.resource] };

    const records: HostRecord[] = [
      ...props.webHosts.map((h) => ({ ...h, proxied: props.proxied })),
      { id: "git-ssh", name: props.sshHost, proxied: false, address: props.sshAddress },
    ];
    this.records = new CloudflareRecords(this, "records", { zoneId: props.zoneId, address: props.webAddress, records });
  }
}
