// DNS and TLS on aws: Cloudflare records for the web and registry hosts
// (proxied per config) and the git SSH host (always DNS-only) pointing at the Elastic IP;
// the zone's SSL mode Full (strict), so Cloudflare checks the Origin CA certificate nginx
// serves (fetched from Secrets Manager at boot by the GitLab server).
import { DataCloudflareZoneSetting } from "@cdktf/provider-cloudflare/lib/data-cloudflare-zone-setting";
import { ZoneSetting } from "@cdktf/provider-cloudflare/lib/zone-setting";
import { Construct } from "constructs";
import { CloudflareRecords, type HostRecord } from "./records";

export interface AwsDnsTlsProps {
  readonly zoneId: string;
  /** The Elastic IP's address. */
  readonly address: string;
  /** Proxy the web host names through Cloudflare. */
  readonly proxied: boolean;
  /** Web host names (GitLab, registry), by record id. */
  readonly webHosts: readonly { readonly id: string; readonly name: string }[];
  /** The git SSH host name: never proxied. */
  readonly sshHost: string;
  /** Set the zone's SSL mode to Full (strict). */
  readonly strictSslMode: boolean;
}

export class AwsDnsTls extends Construct {
  readonly records: CloudflareRecords;

  constructor(scope: Construct, id: string, props: AwsDnsTlsProps) {
    super(scope, id);
    const records: HostRecord[] = [...props.webHosts.map((h) => ({ ...h, proxied: props.proxied })), { id: "git-ssh", name: props.sshHost, proxied: false }];
    this.records = new CloudflareRecords(this, "records", { zoneId: props.zoneId, address: props.address, records });
    if (props.strictSslMode) {
      new ZoneSetting(this, "ssl-strict", {
        zoneId: props.zoneId,
        settingId: "ssl",
        // The provider types `value` as a map, but the ssl setting's value is a plain string.
        value: "strict" as unknown as Record<string, unknown>,
      });
    } else if (props.proxied) {
      // Another environment owns the zone's SSL mode. Deployed alone on a Flexible zone,
      // Cloudflare would fetch over HTTP and nginx redirect to HTTPS in a loop: the plan reads
      // the mode and stops (Full also works: the origin serves HTTPS).
      new DataCloudflareZoneSetting(this, "ssl-mode", {
        zoneId: props.zoneId,
        settingId: "ssl",
        lifecycle: {
          postcondition: [
            {
              condition: '${contains(["full", "strict"], self.value)}',
              errorMessage:
                "The zone's SSL mode is not Full (strict) or Full, and this environment leaves it to another one (tls.strictSslMode: false): proxied requests would loop between Cloudflare's HTTP fetch and nginx's redirect to HTTPS. Set tls.strictSslMode: true here, or deploy the environment that owns the zone's SSL mode first.",
            },
          ],
        },
      });
    }
  }
}
