// Keeps CI build jobs off the LAN on the docker platform. Build jobs run on Docker's default
// bridge and their traffic leaves masqueraded to the Docker host's address, so the NAS (whose
// export trusts the host), the router and the host's own services would take them for the
// host. A small container installs firewall rules (userdata/jobs-firewall.ts) in the host's
// DOCKER-USER and INPUT chains and puts them back whenever they go missing
// (userdata/scripts/jobs-firewall.sh): jobs reach the internet and GitLab's published ports,
// nothing else on the LAN or the host.
//
// It needs the host's network namespace (the host's firewall lives there) and NET_ADMIN, which
// two policy rules refuse by default: the suppressions, with their reasons, are declared here
// beside the container they cover and apply to nothing else. A container, not a host package:
// the platform manages the Docker host through its Docker API only, and this way the rules are
// reviewed, versioned and deployed with the rest, and re-applied when Docker or a host
// firewall rebuilds its chains.
import type { Container } from "@cdktf/provider-docker/lib/container";
import { Construct } from "constructs";
import { JOBS_FORWARD_CHAIN, JOBS_INPUT_CHAIN, renderJobsFirewallRules } from "../../userdata/jobs-firewall";
import { hostScript } from "../../userdata/host-scripts";
import { PlatformContainer } from "../docker-conventions";

/** Where the container reads its rules (iptables-restore format) and its keeper script. */
export const JOBS_FIREWALL_PATHS = {
  rulesV4: "/etc/gitlab-platform/jobs-egress.iptables",
  rulesV6: "/etc/gitlab-platform/jobs-egress.ip6tables",
  script: "/usr/local/bin/jobs-firewall",
} as const;

export interface DockerJobsFirewallProps {
  /** Pinned image with iptables (nft and legacy), e.g. 'docker:28.5.1-dind'. */
  readonly image: string;
  /** The bridge build jobs run on: Docker's default bridge. @default 'docker0' */
  readonly bridge?: string;
  /** The host's published TCP ports jobs may use: Traefik's 80/443 and GitLab's git SSH port. */
  readonly hostPorts: readonly number[];
  /** Private networks jobs may reach all the same, as CIDRs. @default none */
  readonly allowedNetworks?: readonly string[];
}

export class DockerJobsFirewall extends Construct {
  readonly container: Container;
  /** The policy exceptions this container needs, each with its reason; the stack passes them to the policy aspect. */
  readonly policySuppressions: readonly { readonly rule: string; readonly path: string; readonly reason: string }[];

  constructor(scope: Construct, id: string, props: DockerJobsFirewallProps) {
    super(scope, id);
    const bridge = props.bridge ?? "docker0";
    const settings = { bridge, hostPorts: props.hostPorts, ...(props.allowedNetworks ? { allowedNetworks: props.allowedNetworks } : {}) };
    const P = JOBS_FIREWALL_PATHS;
    this.container = new PlatformContainer(this, "keeper", {
      name: "gitlab-jobs-firewall",
      image: props.image,
      network: "host",
      stopGraceSeconds: 10,
      files: [
        { path: P.rulesV4, content: renderJobsFirewallRules(settings, 4) },
        { path: P.rulesV6, content: renderJobsFirewallRules(settings, 6) },
        { path: P.script, content: hostScript("jobs-firewall.sh"), executable: true },
      ],
      container: {
        entrypoint: [P.script],
        command: ["keep"],
        env: [`JOBS_BRIDGE=${bridge}`, `JOBS_FIREWALL_RULES_V4=${P.rulesV4}`, `JOBS_FIREWALL_RULES_V6=${P.rulesV6}`, "JOBS_FIREWALL_INTERVAL=60"],
        // iptables needs NET_ADMIN (and NET_RAW for the legacy backend); nothing else.
        capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] },
        securityOpts: ["no-new-privileges:true"],
        healthcheck: { test: ["CMD", P.script, "check"], interval: "60s", timeout: "20s", retries: 2, startPeriod: "30s" },
      },
    }).container;

    const path = this.container.node.path;
    this.policySuppressions = [
      {
        rule: "DOCKER-PUBLISHED-PORTS",
        path,
        reason: `the jobs firewall edits the host's firewall (${JOBS_FORWARD_CHAIN}, ${JOBS_INPUT_CHAIN}), which exists only in the host's network namespace; it listens on no port`,
      },
      {
        rule: "DOCKER-CAPABILITIES",
        path,
        reason: "NET_ADMIN is what changing the host's firewall takes (every other capability is dropped); it keeps CI jobs off the LAN",
      },
    ];
  }
}
