// The container that keeps build jobs off the LAN, as the homelab deploys it, and the two
// policy exceptions it needs (declared beside it, with their reasons, for it alone).
import { Testing } from "cdktf";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../policies/index";
import { stackView } from "../../policies/stack-view";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { hostScript } from "../../userdata/host-scripts";
import { renderJobsFirewallRules } from "../../userdata/jobs-firewall";
import { DockerEnvironmentStack, type DockerEnvironment } from "../../stacks/docker-stack";
import { exampleEnvironment, exampleStack, exampleYaml, resources, synthEnvironment, synthToDisk, validEnvironment } from "../helpers";

const stack = exampleStack("homelab");
const containers = resources(stack, "docker_container");
const firewall = containers.find((c) => c.name === "gitlab-jobs-firewall");
const upload = (c: any, file: string) => unescapeTemplate(c.upload.find((u: any) => u.file === file)?.content as string);

describe("the jobs firewall container", () => {
  it("runs in the host's network namespace with NET_ADMIN and NET_RAW only, publishing nothing and mounting nothing", () => {
    expect(firewall.network_mode).toBe("host");
    expect(firewall.networks_advanced).toBeUndefined();
    expect(firewall.capabilities).toEqual({ drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] });
    expect(firewall.privileged).toBeUndefined();
    expect(firewall.ports).toBeUndefined();
    expect(firewall.volumes).toBeUndefined();
    expect(firewall.security_opts).toEqual(["no-new-privileges:true"]);
  });

  it("keeps the rules for Docker's default bridge, allowing Traefik's ports and GitLab's git SSH port, and checks them as its health", () => {
    const settings = { bridge: "docker0", hostPorts: [80, 443, 2222], allowedNetworks: [] };
    expect(upload(firewall, "/etc/gitlab-platform/jobs-egress.iptables")).toBe(renderJobsFirewallRules(settings, 4));
    expect(upload(firewall, "/etc/gitlab-platform/jobs-egress.ip6tables")).toBe(renderJobsFirewallRules(settings, 6));
    expect(upload(firewall, "/usr/local/bin/jobs-firewall")).toBe(hostScript("jobs-firewall.sh"));
    expect(firewall.entrypoint).toEqual(["/usr/local/bin/jobs-firewall"]);
    expect(firewall.command).toEqual(["keep"]);
    expect(firewall.env).toContain("JOBS_BRIDGE=docker0");
    expect(firewall.healthcheck.test).toEqual(["CMD", "/usr/local/bin/jobs-firewall", "check"]);
    expect(firewall.image).toMatch(/^\$\{docker_image\./);
    expect(resources(stack, "docker_image").map((i) => i.name)).toContain("docker:28.5.1-dind");
  });

  it("follows config: the git SSH port, and private networks jobs may reach", () => {
    const c = exampleYaml("homelab");
    c.gitlab.sshPort = 2022;
    c.runners.build.allowPrivateNetworks = ["192.168.1.20/32"];
    const fw = resources(synthEnvironment(validEnvironment(c, "homelab")), "docker_container").find((x) => x.name === "gitlab-jobs-firewall");
    const rules = upload(fw, "/etc/gitlab-platform/jobs-egress.iptables");
    expect(rules).toContain("--dports 80,443,2022 -j ACCEPT");
    expect(rules).toContain("-d 192.168.1.20/32 -j RETURN");
  });

  it("build jobs run on the bridge the rules cover, with public resolvers (a LAN resolver is out of their reach)", () => {
    const build = resources(exampleStack("homelab-gitlab"), "docker_container").find((c) => c.name === "gitlab-runner-build");
    const docker = (parse(upload(build, "/etc/gitlab-runner/config.toml.template")) as any).runners[0].docker;
    expect(docker.network_mode).toBeUndefined();
    expect(docker.dns).toEqual(["1.1.1.1", "9.9.9.9"]);
  });
});

describe("the jobs firewall's policy exceptions", () => {
  const homelab = new DockerEnvironmentStack(Testing.app(), exampleEnvironment("homelab") as DockerEnvironment);
  const path = homelab.jobsFirewall.container.node.path;

  it("declares them for its own container only, each with a reason", () => {
    expect(path).toBe("homelab/jobs-firewall/keeper/container");
    expect(homelab.jobsFirewall.policySuppressions.map((s) => [s.rule, s.path])).toEqual([
      ["DOCKER-PUBLISHED-PORTS", path],
      ["DOCKER-CAPABILITIES", path],
    ]);
    for (const s of homelab.jobsFirewall.policySuppressions) expect(s.reason.length).toBeGreaterThan(40);
  });

  it("exactly its host network and NET_ADMIN would fail the policies without the exceptions it declares", () => {
    const { violations } = evaluatePolicies(stackView(homelab.toTerraform(), { gitSshPort: 2222 }), []);
    expect(violations.map((v) => `${v.rule.id} ${v.resource.path}`).sort()).toEqual([`DOCKER-CAPABILITIES ${path}`, `DOCKER-PUBLISHED-PORTS ${path}`]);
  });

  it("the stack synthesizes with them (a full app synth runs the policy aspect)", () => {
    expect(Object.keys(synthToDisk([exampleEnvironment("homelab")]))).toEqual(["homelab"]);
  });
});
