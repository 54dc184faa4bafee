// The one private Docker network every container of the platform joins.
import { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { KEEP_LABEL } from "../docker-conventions";

export interface DockerPrivateNetworkProps {
  /** Network name, e.g. 'gitlab'. */
  readonly name: string;
  /** Its IPv4 subnet; GitLab trusts proxies and metrics scrapers from it. */
  readonly cidr: string;
}

export class DockerPrivateNetwork extends Construct {
  readonly network: Network;
  /** The subnet, for allow-lists (monitoring_whitelist, trusted proxies). */
  readonly cidr: string;

  constructor(scope: Construct, id: string, props: DockerPrivateNetworkProps) {
    super(scope, id);
    this.cidr = props.cidr;
    this.network = new Network(this, "network", {
      name: props.name,
      driver: "bridge",
      ipamConfig: [{ subnet: props.cidr }],
      labels: [{ label: KEEP_LABEL, value: "true" }],
    });
  }
}
