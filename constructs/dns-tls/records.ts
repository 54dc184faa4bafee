// Cloudflare DNS records for the platform's host names, on either platform: web hosts may
// be proxied; the git SSH host never is (Cloudflare's proxy carries only HTTP(S)).
import { DnsRecord } from "@cdktf/provider-cloudflare/lib/dns-record";
import { Construct } from "constructs";

/** A literal host name (a load balancer's): the record is a CNAME. Anything else (an IPv4 address, an Elastic IP's reference) is an A record. */
const HOST_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export interface HostRecord {
  /** Stable id of the record's role, e.g. 'gitlab' (part of the Terraform address). */
  readonly id: string;
  /** Fully qualified host name, e.g. gitlab.example.com. */
  readonly name: string;
  /** Through Cloudflare's proxy (HTTP/HTTPS only) or DNS-only. */
  readonly proxied: boolean;
  /** Where this record points, when not at the shared address (e.g. git SSH's own load balancer). */
  readonly address?: string;
}

export interface CloudflareRecordsProps {
  readonly zoneId: string;
  /**
   * Where the records point: an IPv4 address (an A record: the host's public address, the
   * Elastic IP) or a host name (a CNAME record: a cloud load balancer's).
   */
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
          type: HOST_NAME.test(r.address ?? props.address) ? "CNAME" : "A",
          content: r.address ?? props.address,
          proxied: r.proxied,
          ttl: 1, // automatic
          comment: "managed by gitlab-platform",
        }),
    );
  }
}
