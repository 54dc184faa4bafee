// Security groups: the world may reach only the GitLab server, and only on 80, 443 and git SSH.
import { ROLE_TAG, type Rule } from "../types";

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

const openIngress: Rule = {
  id: "AWS-SG-INGRESS",
  rationale: "Every open port is attack surface; admins use SSM, runners only poll out.",
  check: (stack) => {
    const allowed = new Set([80, 443, stack.context.gitSshPort]);
    const inline = stack
      .ofType("aws_security_group")
      .filter((sg) => (sg.config.ingress ?? []).length > 0)
      .map((resource) => ({ resource, message: "declare ingress as aws_vpc_security_group_ingress_rule resources, not inline blocks" }));
    const rules = stack.ofType("aws_vpc_security_group_ingress_rule").flatMap((rule) => {
      const group = stack.referenced(rule.config.security_group_id);
      const role = group?.config.tags?.[ROLE_TAG];
      if (role === "runner") return [{ resource: rule, message: "runners take no inbound connections: remove this ingress rule" }];
      const fromWorld = WORLD.has(rule.config.cidr_ipv4) || WORLD.has(rule.config.cidr_ipv6);
      if (!fromWorld) return [];
      const single = rule.config.from_port === rule.config.to_port && rule.config.ip_protocol === "tcp";
      if (role === "gitlab-server" && single && allowed.has(rule.config.from_port)) return [];
      return [{ resource: rule, message: `only the GitLab server may be open to the internet, on tcp ${[...allowed].join(", ")}: restrict the source or the port` }];
    });
    return [...inline, ...rules];
  },
};

export const networkRules = [openIngress];
