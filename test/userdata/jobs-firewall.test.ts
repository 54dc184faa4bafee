// The build jobs' firewall rules: what they refuse and allow, and that iptables-restore (the
// tool the keeper loads them with) accepts them, in a network namespace of the test's own.
// Their effect on real traffic is tested in test/stacks/jobs-firewall-engine.test.ts.
import { describe, expect, it } from "vitest";
import { checkIptablesRules } from "../../scripts/verify/checkers";
import { hasTool, isStrict } from "../../scripts/verify/tools";
import { BLOCKED_IPV4, BLOCKED_IPV6, JOBS_FORWARD_CHAIN, JOBS_INPUT_CHAIN, renderJobsFirewallRules } from "../../userdata/jobs-firewall";

const settings = { bridge: "docker0", hostPorts: [443, 80, 2222, 443] };
const v4 = renderJobsFirewallRules(settings, 4);
const v6 = renderJobsFirewallRules(settings, 6);
const rules = (text: string, chain: string) => text.split("\n").filter((l) => l.startsWith(`-A ${chain} `));
const canTest = () => isStrict() || (hasTool("iptables-restore") && hasTool("unshare") && process.getuid?.() === 0);

describe("jobs firewall rules", () => {
  it("declare only their own two chains in the filter table (loaded with --noflush, they replace nothing else)", () => {
    for (const text of [v4, v6]) {
      expect(text.split("\n").filter((l) => l.startsWith("*"))).toEqual(["*filter"]);
      expect(text.split("\n").filter((l) => l.startsWith(":"))).toEqual([`:${JOBS_FORWARD_CHAIN} - [0:0]`, `:${JOBS_INPUT_CHAIN} - [0:0]`]);
      expect(
        text
          .split("\n")
          .filter((l) => l.startsWith("-"))
          .every((l) => l.startsWith(`-A ${JOBS_FORWARD_CHAIN} `) || l.startsWith(`-A ${JOBS_INPUT_CHAIN} `)),
      ).toBe(true);
      expect(text.trimEnd().endsWith("COMMIT")).toBe(true);
    }
  });

  it("refuse every private, shared, link-local and special destination for forwarded job traffic, then let the rest through", () => {
    const forward = rules(v4, JOBS_FORWARD_CHAIN);
    expect(forward[0]).toBe(`-A ${JOBS_FORWARD_CHAIN} -o docker0 -j RETURN`);
    for (const cidr of ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]) {
      expect(forward).toContain(`-A ${JOBS_FORWARD_CHAIN} -d ${cidr} -j REJECT --reject-with icmp-admin-prohibited`);
    }
    expect(forward.filter((l) => l.includes("REJECT"))).toHaveLength(BLOCKED_IPV4.length);
    expect(forward.at(-1)).toBe(`-A ${JOBS_FORWARD_CHAIN} -j RETURN`);
    expect(rules(v6, JOBS_FORWARD_CHAIN).filter((l) => l.includes("REJECT"))).toHaveLength(BLOCKED_IPV6.length);
    expect(rules(v6, JOBS_FORWARD_CHAIN)).toContain(`-A ${JOBS_FORWARD_CHAIN} -d fc00::/7 -j REJECT --reject-with icmp6-adm-prohibited`);
  });

  it("let jobs reach the host only on the published ports they need", () => {
    expect(rules(v4, JOBS_INPUT_CHAIN)).toEqual([
      `-A ${JOBS_INPUT_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-A ${JOBS_INPUT_CHAIN} -p tcp -m multiport --dports 80,443,2222 -j ACCEPT`,
      `-A ${JOBS_INPUT_CHAIN} -p tcp -j REJECT --reject-with tcp-reset`,
      `-A ${JOBS_INPUT_CHAIN} -j REJECT --reject-with icmp-admin-prohibited`,
    ]);
  });

  it("let through the private networks config allows, before the refusals, in their own family only", () => {
    const text = renderJobsFirewallRules({ ...settings, allowedNetworks: ["192.168.1.20/32", "fd00:1::/64"] }, 4);
    const forward = rules(text, JOBS_FORWARD_CHAIN);
    expect(forward[1]).toBe(`-A ${JOBS_FORWARD_CHAIN} -d 192.168.1.20/32 -j RETURN`);
    expect(text).not.toContain("fd00:1::/64");
    expect(rules(renderJobsFirewallRules({ ...settings, allowedNetworks: ["192.168.1.20/32", "fd00:1::/64"] }, 6), JOBS_FORWARD_CHAIN)[1]).toBe(
      `-A ${JOBS_FORWARD_CHAIN} -d fd00:1::/64 -j RETURN`,
    );
  });

  it("refuse settings that would make a broken or empty rule", () => {
    expect(() => renderJobsFirewallRules({ ...settings, bridge: "docker0; rm" }, 4)).toThrow(/not a network interface name/);
    expect(() => renderJobsFirewallRules({ ...settings, hostPorts: [] }, 4)).toThrow(/at least one/);
    expect(() => renderJobsFirewallRules({ ...settings, allowedNetworks: ["192.168.1.0"] }, 4)).toThrow(/not a CIDR/);
  });

  it.skipIf(!canTest())("pass iptables-restore --test and ip6tables-restore --test", async () => {
    expect(await checkIptablesRules(v4, "/etc/gitlab-platform/jobs-egress.iptables")).toEqual({ tool: "iptables-restore --test", status: "ok", findings: [] });
    expect(await checkIptablesRules(v6, "/etc/gitlab-platform/jobs-egress.ip6tables")).toEqual({
      tool: "ip6tables-restore --test",
      status: "ok",
      findings: [],
    });
  });

  it.skipIf(!canTest())("the check catches what iptables-restore refuses: an unknown option, an IPv4 address in the IPv6 file", async () => {
    const typo = await checkIptablesRules(v4.replace("--reject-with tcp-reset", "--reject-with tcp-rest"), "/etc/gitlab-platform/jobs-egress.iptables");
    expect(typo.status).toBe("FAIL");
    expect(typo.findings.join("\n")).toMatch(/line:? \d+/);
    const wrongFamily = await checkIptablesRules(v6.replace("fc00::/7", "10.0.0.0/8"), "/etc/gitlab-platform/jobs-egress.ip6tables");
    expect(wrongFamily.status).toBe("FAIL");
  });
});
