// The one private Docker network every container of the platform joins.
import { Network } from "@cdktf/provider-docker/lib/network";
import { Construct } from "constructs";
import { KEEP_LABEL } from "../docker-conventions";

export interface DockerPrivateNetworkProps {
  /** Network name, e.g. 'gitlab'. */
  readonly name: string;
  /** Its IPv4 subnet; Traefik and Prometheus get fixed addresses at its end. */
  readonly cidr: string;
}

/**
 * The address `fromEnd` places below the subnet's broadcast address (1 = the last usable).
 * Fixed addresses are taken from the end: Docker hands out the others from the start.
 */
export function addressFromEnd(cidr: string, fromEnd: number): string {
  const [base, bits] = cidr.split("/");
  const prefix = Number(bits);
  const octets = (base ?? "").split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !Number.isInteger(prefix) || prefix < 0 || prefix > 30) {
    throw new Error(`private network: '${cidr}' is not an IPv4 subnet of at most /30`);
  }
  const size = 2 ** (32 - prefix);
  // The first usable address is Docker's gateway: never hand it out.
  if (fromEnd < 1 || fromEnd > size - 3) throw new Error(`private network ${cidr} has no address ${fromEnd} from its end besides the gateway`);
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const value = ip - (ip % size) + size - 1 - fromEnd;
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join(".");
}

/** The fixed addresses on the private network, counted from its end. */
export const FIXED_ADDRESSES = { traefik: 1, prometheus: 2 } as const;

export class DockerPrivateNetwork extends Construct {
  readonly network: Network;
  /** The subnet. */
  readonly cidr: string;
  /** Traefik's fixed address: GitLab trusts the client addresses it forwards, and no one else's. */
  readonly traefikAddress: string;
  /** Prometheus's fixed address: the only one allowed to read GitLab's metrics endpoints. */
  readonly prometheusAddress: string;

  constructor(scope: Construct, id: string, props: DockerPrivateNetworkProps) {
    super(scope, id);
    this.cidr = props.cidr;
    this.traefikAddress = addressFromEnd(props.cidr, FIXED_ADDRESSES.traefik);
    this.prometheusAddress = addressFromEnd(props.cidr, FIXED_ADDRESSES.prometheus);
    this.network = new Network(this, "network", {
      name: props.name,
      driver: "bridge",
      ipamConfig: [{ subnet: props.cidr }],
      labels: [{ label: KEEP_LABEL, value: "true" }],
    });
  }
}
