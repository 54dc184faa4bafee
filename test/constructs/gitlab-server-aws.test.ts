import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzippedUserDataBytes } from "../../constructs/ec2-user-data";
import { compactScript } from "../../userdata/host-scripts";
import { OMNIBUS_ACCOUNTS, renderDataOwnersList } from "../../userdata/omnibus-accounts";
import { CLOUDFLARE_IP_RANGES } from "../../constructs/dns-tls/cloudflare-ip-ranges";
import { AwsGitLabServer } from "../../constructs/gitlab-server/aws";
import { TerraformStack, Testing } from "cdktf";
import { exampleStack, exampleYaml, onlyResource, REPO_ROOT, resources, synthEnvironment, userDataText, validEnvironment } from "../helpers";

const stack = exampleStack("staging");
const instance = onlyResource(stack, "aws_instance");
const userData = parse(userDataText(instance));
const file = (path: string) => userData.write_files.find((f: any) => f.path === path)?.content as string;

/** The server construct alone, with these sources for 80/443. */
function synthWithWebSources(sources: readonly string[]) {
  const stack = new TerraformStack(Testing.app(), "t");
  new AwsGitLabServer(stack, "gitlab-server", {
    namePrefix: "t-gitlab",
    gitlabVersion: "18.5.1-ce.0",
    region: "eu-west-3",
    vpcId: "vpc-0123456789abcdef0",
    subnetId: "subnet-0123456789abcdef0",
    instanceType: "t3a.xlarge",
    ami: "ami-0123456789abcdef0",
    rootVolumeGb: 30,
    dataVolumeGb: 200,
    omnibus: {
      externalUrl: "https://g.example.com",
      sshHost: "s.example.com",
      sshPort: 22,
      timeZone: "UTC",
      emailFrom: "g@example.com",
      tls: { mode: "certificate", certificatePath: "/c", keyPath: "/k" },
      memoryProfile: "standard",
      monitoring: { whitelist: [], exportersOnAllInterfaces: false },
      backupKeepSeconds: 1,
    },
    bootSecrets: [],
    applicationSettings: {},
    tags: {},
    webIngressSources: sources,
  });
  return Testing.synth(stack);
}

describe("GitLabServer on aws", () => {
  it("runs the configured instance type from the one Canonical image the config names, deprecated or not", () => {
    expect(instance.instance_type).toBe("t3a.xlarge");
    const amis = Object.entries(stack.data!.aws_ami!)
      .filter(([k]) => k.startsWith("gitlab-server"))
      .map(([, v]) => v as any);
    expect(amis).toHaveLength(1);
    const ami = amis[0];
    expect(ami.owners).toEqual(["099720109477"]);
    // Exactly one image: no most_recent, so a name that matched two would fail the plan.
    expect(ami.most_recent).toBeUndefined();
    expect(ami.include_deprecated).toBe(true);
    expect(ami.filter).toEqual([{ name: "name", values: [exampleYaml("staging").aws.ami] }]);
    expect(exampleYaml("staging").aws.ami).toMatch(/^ubuntu\/images\/hvm-ssd-gp3\/ubuntu-noble-24\.04-amd64-server-\d{8}$/);
    expect(instance.ami).toMatch(/^\$\{data\.aws_ami\.[^.]+\.id\}$/);
  });

  it("runs an AMI given by id as it is, with no lookup", () => {
    const c = exampleYaml("staging");
    c.aws.ami = "ami-0123456789abcdef0";
    const s = synthEnvironment(validEnvironment(c, "staging"));
    expect(onlyResource(s, "aws_instance").ami).toBe("ami-0123456789abcdef0");
    expect(Object.keys(s.data?.aws_ami ?? {}).filter((k) => k.startsWith("gitlab-server"))).toEqual([]);
  });

  it("requires IMDSv2", () => {
    expect(instance.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 });
  });

  it("has an encrypted gp3 root volume", () => {
    expect(instance.root_block_device).toMatchObject({ encrypted: true, volume_type: "gp3" });
  });

  it("keeps GitLab's data on a separate encrypted gp3 volume that outlives the instance", () => {
    const volume = onlyResource(stack, "aws_ebs_volume");
    expect(volume).toMatchObject({ size: 200, type: "gp3", encrypted: true, final_snapshot: true, lifecycle: { prevent_destroy: true } });
    expect(volume.availability_zone).toMatch(/^\$\{data\.aws_subnet\.[^.]+\.availability_zone\}$/);
    const attachment = onlyResource(stack, "aws_volume_attachment");
    expect(attachment.volume_id).toMatch(/^\$\{aws_ebs_volume\.[^.]+\.id\}$/);
    expect(attachment.instance_id).toMatch(/^\$\{aws_instance\.[^.]+\.id\}$/);
    expect(attachment.stop_instance_before_detaching).toBe(true);
    expect(file("/etc/gitlab-platform/bootstrap.env")).toMatch(/^DATA_VOLUME_ID=\$\{aws_ebs_volume\.[^.]+\.id\}$/m);
  });

  it("is replaced for new user data or a new AMI in config, and only then (nothing ignored: the AMI is pinned)", () => {
    expect(instance.user_data_replace_on_change).toBe(true);
    expect(instance.lifecycle?.ignore_changes).toBeUndefined();
  });

  it("has a protected Elastic IP associated with the instance", () => {
    expect(onlyResource(stack, "aws_eip")).toMatchObject({ domain: "vpc", lifecycle: { prevent_destroy: true } });
    expect(onlyResource(stack, "aws_eip_association").instance_id).toMatch(/^\$\{aws_instance\./);
  });

  it("proxied (the examples): HTTP and HTTPS only from Cloudflare's ranges, in a group of their own; git SSH from anywhere; no admin SSH port", () => {
    const groups = Object.fromEntries(Object.entries(stack.resource.aws_security_group ?? {}).map(([k, v]) => [k, v as any]));
    const server = Object.keys(groups).find((k) => groups[k].name === "staging-gitlab-server")!;
    const web = Object.keys(groups).find((k) => groups[k].name === "staging-gitlab-web-cloudflare")!;
    expect(web).toBeDefined();
    expect(groups[web].tags["gitlab-platform:role"]).toBe("gitlab-server");
    const ingress = resources(stack, "aws_vpc_security_group_ingress_rule");
    const of = (group: string) =>
      ingress
        .filter((r) => r.security_group_id === `\${aws_security_group.${group}.id}`)
        .map((r) => `${r.from_port}-${r.to_port}/${r.ip_protocol} ${r.cidr_ipv4 ?? r.cidr_ipv6}`)
        .sort();
    expect(of(server)).toEqual(["22-22/tcp 0.0.0.0/0", "22-22/tcp ::/0"]);
    expect(of(web)).toEqual(CLOUDFLARE_IP_RANGES.flatMap((cidr) => [`443-443/tcp ${cidr}`, `80-80/tcp ${cidr}`]).sort());
    expect(ingress.some((r) => [80, 443].includes(r.from_port) && /\/0$/.test(r.cidr_ipv4 ?? r.cidr_ipv6))).toBe(false);
    expect(instance.vpc_security_group_ids).toEqual([`\${aws_security_group.${server}.id}`, `\${aws_security_group.${web}.id}`]);
    expect(instance.key_name).toBeUndefined();
  });

  it("DNS-only: HTTP, HTTPS and git SSH from anywhere, on the server's group alone", () => {
    const c = exampleYaml("staging");
    c.dns.proxied = false;
    const s = synthEnvironment(validEnvironment(c, "staging"));
    const ports = resources(s, "aws_vpc_security_group_ingress_rule")
      .map((r) => `${r.from_port}-${r.to_port}/${r.ip_protocol} ${r.cidr_ipv4 ?? r.cidr_ipv6}`)
      .sort();
    expect(ports).toEqual(["22-22/tcp 0.0.0.0/0", "22-22/tcp ::/0", "443-443/tcp 0.0.0.0/0", "443-443/tcp ::/0", "80-80/tcp 0.0.0.0/0", "80-80/tcp ::/0"]);
    expect(
      resources(s, "aws_security_group")
        .map((g) => g.name)
        .filter((n: string) => n.startsWith("staging-gitlab-") && n !== "staging-gitlab-runner"),
    ).toEqual(["staging-gitlab-server"]);
  });

  it("refuses more proxy ranges than a security group takes rules (60 inbound per address family)", () => {
    const many = Array.from({ length: 31 }, (_, i) => `10.${i}.0.0/16`);
    expect(() => synthWithWebSources(many)).toThrow(/web ingress needs 62 inbound IPv4 rules, but a security group takes at most 60/);
  });

  it("has an instance role with Session Manager's own actions (no managed policy) and read access to exactly this environment's boot secrets", () => {
    const role = resources(stack, "aws_iam_role").find((r) => r.name === "staging-gitlab-server");
    expect(JSON.parse(role.assume_role_policy).Statement[0].Principal).toEqual({ Service: "ec2.amazonaws.com" });
    const server = resources(stack, "aws_iam_role_policy_attachment").filter((a) => a.role.includes("gitlab-server"));
    expect(server).toEqual([]);
    const session = JSON.parse(resources(stack, "aws_iam_role_policy").find((p) => p.name === "ssm-session" && p.role.includes("gitlab-server")).policy);
    expect(session.Statement.map((s: any) => s.Action)).toEqual([
      [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
    ]);
    const policy = JSON.parse(resources(stack, "aws_iam_role_policy").find((p) => p.name === "read-boot-secrets").policy);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0].Action).toEqual(["secretsmanager:GetSecretValue"]);
    expect(policy.Statement[0].Resource).toEqual([
      "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab/db-password-AbCdEf",
      "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab/origin-certificate-AbCdEf",
      "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab/origin-private-key-AbCdEf",
      "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab/smtp-password-AbCdEf",
    ]);
    const profile = resources(stack, "aws_iam_instance_profile").find((p) => p.name === "staging-gitlab-server");
    expect(profile.role).toMatch(/^\$\{aws_iam_role\.gitlab-server_role_/);
  });

  it("boots only once its role may read its secrets and write its logs, buckets and metrics (no AccessDenied on first create)", () => {
    const serverRole = Object.keys(stack.resource.aws_iam_role!).find((k) => stack.resource.aws_iam_role![k].name === "staging-gitlab-server")!;
    const policies = Object.entries(stack.resource.aws_iam_role_policy!)
      .filter(([, p]) => p.role === `\${aws_iam_role.${serverRole}.id}`)
      .map(([k]) => `aws_iam_role_policy.${k}`);
    expect(policies.length).toBe(7); // boot secrets, Session Manager, bootstrap metric, registry, backups, agent, automation token
    const logGroups = Object.entries(stack.resource.aws_cloudwatch_log_group!)
      .filter(([, g]) => g.name.startsWith("/staging/gitlab/"))
      .map(([k]) => `aws_cloudwatch_log_group.${k}`);
    expect(logGroups).toHaveLength(4);
    expect([...instance.depends_on].sort()).toEqual([...policies, ...logGroups].sort());
  });

  it("installs the pinned Omnibus version and fetches secrets at boot instead of embedding them", () => {
    expect(file("/etc/gitlab-platform/bootstrap.env")).toContain("GITLAB_VERSION=18.5.1-ce.0\n");
    expect(
      file("/etc/gitlab-platform/secrets.list")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ")[0]),
    ).toEqual(["smtp_password", "db_password", "tls_certificate", "tls_private_key"]);
    const rb = file("/etc/gitlab/gitlab.rb");
    expect(rb).toContain("gitlab_rails['smtp_password'] = File.read('/etc/gitlab/secrets.d/smtp_password').strip");
    expect(rb).toContain("gitlab_rails['db_password'] = File.read('/etc/gitlab/secrets.d/db_password').strip");
    expect(rb).toContain("nginx['ssl_certificate'] = '/etc/gitlab/secrets.d/tls_certificate'");
    expect(rb).toContain("external_url 'https://gitlab-staging.example.com'");
    expect(rb).toContain("gitlab_rails['gitlab_ssh_host'] = 'ssh-gitlab-staging.example.com'");
    expect(rb).toContain("'10.0.0.0/16'");
  });

  it("pins every Omnibus account's uid and gid to the ids the README lists, and checks the volume's owners before GitLab starts", () => {
    const rb = file("/etc/gitlab/gitlab.rb");
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const documented = [...readme.matchAll(/^\| `([a-z-]+)` \| `([a-z_]+)\['uid'\]`, `\2\['gid'\]` \| (\d+) \|$/gm)].map((m) => ({
      name: m[1],
      key: m[2],
      id: Number(m[3]),
    }));
    expect(documented).toEqual(OMNIBUS_ACCOUNTS.map((a) => ({ name: a.name, key: a.key, id: a.id })));
    for (const a of OMNIBUS_ACCOUNTS) {
      expect(rb).toContain(`${a.key}['uid'] = ${a.id}\n${a.key}['gid'] = ${a.id}\n`);
      // Above Ubuntu's UID_MAX (cloud-init's and adduser's users) and below systemd's dynamic ids.
      expect(a.id).toBeGreaterThan(60000);
      expect(a.id).toBeLessThan(61184);
    }
    expect(file("/etc/gitlab-platform/data-owners.list")).toBe(renderDataOwnersList());
    expect(file("/usr/local/sbin/gitlab-data-owners")).toBe(compactScript("gitlab-data-owners.sh"));
  });

  // Room to spare: at most 11 KB gzipped leaves a third of EC2's 16 KB for what comes next.
  it("hands EC2 its user data gzipped by Terraform, so it stays far under the 16 KB limit", () => {
    expect(instance.user_data).toBeUndefined();
    expect(instance.user_data_base64).toMatch(/^\$\{base64gzip\(join\("", \[".*"\]\)\)\}$/s);
    expect(gzippedUserDataBytes(userDataText(instance))).toBeLessThan(11 * 1024);
  });

  it("fits every option the schema offers (registry, SMTP, SSO, external database) with room to spare", () => {
    const c = exampleYaml("production");
    c.gitlab.sso = {
      issuer: "https://login.example.com",
      clientId: "gitlab",
      clientSecret: { secretsManagerArn: "arn:aws:secretsmanager:eu-west-3:222222222222:secret:production/gitlab/oidc-AbCdEf" },
    };
    const full = onlyResource(synthEnvironment(validEnvironment(c, "production")), "aws_instance");
    const text = userDataText(full);
    expect(text).toContain("openid_connect");
    expect(Buffer.byteLength(text)).toBeGreaterThan(16 * 1024); // too big to send uncompressed…
    expect(gzippedUserDataBytes(text)).toBeLessThan(11 * 1024); // …comfortable gzipped
  });

  it("outputs the URLs, SSH host and port and the ids an operator needs", () => {
    expect(Object.keys(stack.output).sort()).toEqual([
      "backup_bucket",
      "data_volume_id",
      "elastic_ip",
      "git_ssh_host",
      "git_ssh_port",
      "instance_id",
      "log_groups",
      "registry_bucket",
      "registry_url",
      "runner_autoscaling_group",
      "runner_cache_bucket",
      "server_security_group_id",
      "web_url",
    ]);
    expect(stack.output.web_url.value).toBe("https://gitlab-staging.example.com");
    expect(stack.output.git_ssh_host.value).toBe("ssh-gitlab-staging.example.com");
    expect(stack.output.git_ssh_port.value).toBe(22);
    const logGroups = stack.resource.aws_cloudwatch_log_group ?? {};
    const logGroupName = (ref: string) => logGroups[/^\$\{aws_cloudwatch_log_group\.([^.]+)\.name\}$/.exec(ref)?.[1] ?? ""]?.name;
    expect(stack.output.log_groups.value.map(logGroupName)).toEqual([
      "/staging/gitlab/rails",
      "/staging/gitlab/nginx-access",
      "/staging/gitlab/nginx-error",
      "/staging/gitlab/system",
      "/staging/gitlab-runner/runner",
      "/staging/gitlab-runner/system",
    ]);
  });

  it("configures the provider for the region, tagging everything", () => {
    expect(stack.provider.aws[0]).toMatchObject({
      region: "eu-west-3",
      default_tags: [{ tags: { Environment: "staging", ManagedBy: "gitlab-platform" } }],
    });
  });
});
