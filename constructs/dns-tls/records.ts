// Cloudflare DNS records for the platform's host names, on either platform: web hosts may
// be proxied; the git SSH host never is (Cloudflare's proxy carries only HTTP(S)).
import { DnsRecord } from "@cdktf/provider-cloudflare/lib/dns-record";
import { Construct } from "constructs";

export interface HostRecord {
  /** Stable id of the record's role, e.g. 'gitlab' (part of the Terraform address). */
  readonly id: string;
  /** Fully qualified host name, e.g. gitlab.example.com. */
  readonly name: string;
  /** Through Cloudflare's proxy (HTTP/HTTPS only) or DNS-only. */
  readonly proxied: boolean;
}

export interface CloudflareRecordsProps {
  readonly zoneId: string;
  /** IPv4 address every record points at (the host's public address, or the Elastic IP). */
  readonly address: string;
  readonly records: readonly HostRecord[];
}

export class CloudflareRecords extends Construct {
  readonly records: readonly DnsRecord[];

  constructor(scope: Construct, id: string, props: CloudflareRecordsProps) {
    super(scope, id);
    const names = props.records.map((r) => r.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) throw new Error(`host name ${duplicate} is used twice; give each service its own host name`);
    this.records = props.records.map(
      (r) =>
        new DnsRecord(this, r.id, {
          zoneId: props.zoneId,
          name: r.name,
          type: "A",
          content: props.address,
          proxied: r.proxied,
          ttl: 1, // automatic
          comment: "managed by gitlab-platform",
        }),
    );
  }
}
