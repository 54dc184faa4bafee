// Security groups: the world may reach only the GitLab server, and only on 80, 443 and git SSH
// (80 and 443 only from Cloudflare's ranges when the web records are proxied).
// Ingress is checked wherever Terraform can declare it: aws_vpc_security_group_ingress_rule,
// the older aws_security_group_rule (type = "ingress") and inline `ingress` blocks.
import { ROLE_TAG, type ResourceView, type Rule, type StackView, type Violation } from "../types";

/** Any address: 0.0.0.0/0, ::/0, or any other prefix of length 0. */
const isWorld = (cidr: unknown) => typeof cidr === "string" && /\/0$/.test(cidr.trim());

/** One ingress permission, whatever resource declared it. */
interface Ingress {
  readonly cidrs: readonly unknown[];
  /** Security groups whose members may connect (references to them). */
  readonly sourceGroups: readonly unknown[];
  readonly protocol: unknown;
  readonly fromPort: unknown;
  readonly toPort: unknown;
}

const list = (v: unknown): unknown[] => [v ?? []].flat();
const isTcp = (protocol: unknown) => ["tcp", "6"].includes(String(protocol).toLowerCase());

/** A jobs-mode worker: SSH (the manager's connector) from the runner manager's group, nothing else. */
function workerIngressProblem(stack: StackView, ingress: Ingress): string | undefined {
  const sources = ingress.sourceGroups.filter((g) => g !== undefined && g !== null && g !== "");
  const fromManager = sources.length > 0 && sources.every((g) => stack.referenced(g)?.config.tags?.[ROLE_TAG] === "runner-manager");
  const ssh = isTcp(ingress.protocol) && ingress.fromPort === 22 && ingress.toPort === 22;
  if (ingress.cidrs.some((c) => c !== undefined && c !== null && c !== "") || !fromManager || !ssh) {
    return "runner workers take SSH (tcp 22) from the runner manager's security group only: no address range, no other port or source";
  }
  return undefined;
}

function problem(stack: StackView, group: ResourceView | undefined, ingress: Ingress): string | undefined {
  const allowed = new Set([80, 443, stack.context.gitSshPort]);
  const role = group?.config.tags?.[ROLE_TAG];
  if (role === "runner" || role === "runner-manager") return "runners take no inbound connections: remove this ingress rule";
  if (role === "runner-worker") return workerIngressProblem(stack, ingress);
  if (!ingress.cidrs.some(isWorld)) return undefined;
  const tcp = isTcp(ingress.protocol);
  const single = ingress.fromPort === ingress.toPort && tcp;
  if (stack.context.webBehindCloudflare && role === "gitlab-server" && single && [80, 443].includes(ingress.fromPort as number)) {
    return "the web host names are proxied by Cloudflare (dns.proxied): open 80 and 443 to Cloudflare's ranges only (constructs/dns-tls/cloudflare-ip-ranges.ts), or anyone can reach the origin around its WAF and rate limits";
  }
  if (role === "gitlab-server" && single && allowed.has(ingress.fromPort as number)) return undefined;
  return `only the GitLab server may be open to the internet, on tcp ${[...allowed].join(", ")}: restrict the source or the port`;
}

const openIngress: Rule = {
  id: "AWS-SG-INGRESS",
  rationale: "Every open port is attack surface; admins use SSM, runners only poll out.",
  check: (stack) => {
    const violations: Violation[] = [];
    const check = (resource: ResourceView, group: ResourceView | undefined, ingress: Ingress, what = "") => {
      const message = problem(stack, group, ingress);
      if (message) violations.push({ resource, message: `${what}${message}` });
    };
    for (const sg of stack.ofType("aws_security_group")) {
      const blocks = list(sg.config.ingress) as any[];
      if (blocks.length === 0) continue;
      violations.push({ resource: sg, message: "declare ingress as aws_vpc_security_group_ingress_rule resources, not inline blocks" });
      for (const b of blocks) {
        check(
          sg,
          sg,
          {
            cidrs: [...list(b.cidr_blocks), ...list(b.ipv6_cidr_blocks), ...list(b.prefix_list_ids)],
            sourceGroups: list(b.security_groups),
            protocol: b.protocol,
            fromPort: b.from_port,
            toPort: b.to_port,
          },
          `inline ingress ${b.protocol} ${b.from_port}-${b.to_port}: `,
        );
      }
    }
    for (const rule of stack.ofType("aws_vpc_security_group_ingress_rule")) {
      const c = rule.config;
      check(rule, stack.referenced(c.security_group_id), {
        cidrs: [c.cidr_ipv4, c.cidr_ipv6, c.prefix_list_id],
        sourceGroups: [c.referenced_security_group_id],
        protocol: c.ip_protocol,
        fromPort: c.from_port,
        toPort: c.to_port,
      });
    }
    for (const rule of stack.ofType("aws_security_group_rule").filter((r) => r.config.type === "ingress")) {
      const c = rule.config;
      check(rule, stack.referenced(c.security_group_id), {
        cidrs: [...list(c.cidr_blocks), ...list(c.ipv6_cidr_blocks), ...list(c.prefix_list_ids)],
        sourceGroups: [c.source_security_group_id, ...(c.self === true ? [c.security_group_id] : [])],
        protocol: c.protocol,
        fromPort: c.from_port,
        toPort: c.to_port,
      });
    }
    return violations;
  },
};

export const networkRules = [openIngress];
