// Runs the real runner bootstrap with fake system commands first on PATH: a failed bootstrap
// must say where it stopped and take the instance out of the group (EC2's own health checks
// would keep it); a successful one must install only a verified runner and write its token
// into config.toml and nowhere else.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { shippedScript } from "../helpers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Run as shipped in the user data (comments stripped).
const SCRIPT = shippedScript("runner-bootstrap.sh");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "runner-bootstrap-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The scratch tree the script sees as / (BOOTSTRAP_ROOT), with the directories an AL2023 host has. */
function hostTree(): { tree: string; at: (hostPath: string) => string } {
  const tree = join(root, "host");
  const at = (hostPath: string) => join(tree, hostPath);
  for (const dir of ["/etc/gitlab-runner-fleet", "/etc/gitlab-runner", "/var/log", "/usr/local/bin"]) mkdirSync(at(dir), { recursive: true });
  return { tree, at };
}

function fake(bin: string, name: string, body: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '${name} %s\\n' "$*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

function run(options: { imds: "up" | "down"; region?: boolean }) {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  fake(bin, "dnf", 'echo "dnf: cannot reach the repository" >&2; exit 1');
  fake(bin, "aws", "exit 0");
  fake(
    bin,
    "curl",
    options.imds === "down"
      ? "exit 7"
      : 'case "$*" in *api/token*) echo TOKEN ;; *instance-id*) echo i-0123456789abcdef0 ;; *) exit 22 ;; esac',
  );
  const { tree, at } = hostTree();
  writeFileSync(
    at("/etc/gitlab-runner-fleet/bootstrap.env"),
    `RUNNER_VERSION=18.5.0\n${options.region === false ? "" : "AWS_REGION=eu-west-3\n"}TOKEN_SECRET_ARN=arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf\n`,
  );
  const r = spawnSync("bash", [SCRIPT], {
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env.PATH}`, ACTIONS: actions, BOOTSTRAP_ROOT: tree },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, actions: readFileSync(actions, "utf8").trim().split("\n").filter(Boolean), state: at("/var/lib/runner-fleet") };
}

describe("runner bootstrap failure", () => {
  it("stops at the failed step, records it, and marks the instance unhealthy through IMDSv2", () => {
    const r = run({ imds: "up" });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install packages");
    expect(r.output).toContain("FAILED at step 'install packages'");
    // The failed step, then the health report, and nothing of the bootstrap after it.
    expect(r.actions).toEqual([
      "dnf install -y docker amazon-cloudwatch-agent rsyslog logrotate",
      "curl -fs --max-time 2 -X PUT -H X-aws-ec2-metadata-token-ttl-seconds: 60 http://169.254.169.254/latest/api/token",
      "curl -fs --max-time 2 -H X-aws-ec2-metadata-token: TOKEN http://169.254.169.254/latest/meta-data/instance-id",
      "aws autoscaling set-instance-health --region eu-west-3 --instance-id i-0123456789abcdef0 --health-status Unhealthy",
    ]);
    // Nothing after the failed step ran (no runner download, no systemctl).
    expect(r.actions.filter((a) => !/^(dnf|curl|aws) /.test(a))).toEqual([]);
    expect(r.actions.filter((a) => a.startsWith("curl")).every((a) => a.includes("X-aws-ec2-metadata-token"))).toBe(true);
    expect(r.output).toContain("marked this instance unhealthy");
  });

  it("keeps the step's failure as the exit status when the metadata service is down", () => {
    const r = run({ imds: "down" });
    expect(r.status).toBe(1);
    expect(r.actions.some((a) => a.startsWith("aws "))).toBe(false);
    expect(r.output).toContain("could not mark this instance unhealthy");
    expect(existsSync(join(r.state, "bootstrap.failed"))).toBe(true);
  });

  it("fails on a config without a region, without calling AWS", () => {
    const r = run({ imds: "up", region: false });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("AWS_REGION");
    expect(r.actions.some((a) => a.startsWith("aws ") || a.startsWith("dnf "))).toBe(false);
  });
});

// The whole bootstrap with every system command faked: a runner "release" whose checksum
// list matches (or not), a token in Secrets Manager, and the config written into the scratch
// tree. `install` only really installs into the scratch directory.
const TOKEN = "glrt-t1_AbCdEfGhIjKlMnOpQrSt";
/** Installed by the agent's package (dnf is faked: the test puts it there). */
const CWAGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";

function runToCompletion(options: { checksum?: "good" | "bad"; download?: "fails"; token?: string } = {}) {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const { tree, at } = hostTree();
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  writeFileSync(at("/etc/gitlab-runner/config.toml.template"), 'concurrent = 2\n[[runners]]\nname = "staging-gitlab-runner-{hostname}"\ntoken = "@@RUNNER_TOKEN@@"\n');
  const release = "#!/bin/sh\nprintf 'gitlab-runner %s\\n' \"$*\" >> \"$ACTIONS\"\n";
  writeFileSync(join(root, "release-binary"), release);
  const sha = options.checksum === "bad" ? "0".repeat(64) : createHash("sha256").update(release).digest("hex");
  fake(bin, "dnf", "exit 0");
  fake(bin, "systemctl", "exit 0");
  fake(bin, "useradd", "exit 0");
  fake(dirname(at(CWAGENT_CTL)), "amazon-cloudwatch-agent-ctl", "exit 0");
  fake(bin, "aws", `case "$*" in *get-secret-value*) echo '${options.token ?? TOKEN}' ;; esac`);
  fake(
    bin,
    "curl",
    `out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
case "$*" in
  *binaries/gitlab-runner-linux-amd64*) ${options.download === "fails" ? "exit 22" : `cp "${join(root, "release-binary")}" "$out"`} ;;
  *release.sha256*) printf '%s *binaries/gitlab-runner-linux-amd64\\n%s *binaries/gitlab-runner-linux-arm64\\n' ${sha} ${"1".repeat(64)} > "$out" ;;
  *) exit 22 ;;
esac`,
  );
  // Real install into the scratch tree; anything else (/var/log/…) is only recorded.
  fake(bin, "install", `for a in "$@"; do case "$a" in ${root}/*) exec /usr/bin/install "$@" ;; esac; done`);
  writeFileSync(at("/etc/gitlab-runner-fleet/bootstrap.env"), "RUNNER_VERSION=18.5.0\nAWS_REGION=eu-west-3\nTOKEN_SECRET_ARN=arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf\n");
  const r = spawnSync("bash", [SCRIPT], {
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env.PATH}`, ACTIONS: actions, BOOTSTRAP_ROOT: tree },
  });
  const log = at("/var/log/runner-bootstrap.log");
  return {
    status: r.status,
    output: `${r.stdout}${r.stderr}`,
    log: existsSync(log) ? readFileSync(log, "utf8") : "",
    actions: readFileSync(actions, "utf8").trim().split("\n").filter(Boolean),
    state: at("/var/lib/runner-fleet"),
    configPath: at("/etc/gitlab-runner/config.toml"),
    installedRunner: at("/usr/local/bin/gitlab-runner"),
  };
}


describe("runner bootstrap, start to finish", () => {
  it("installs the verified runner, writes config.toml with the token, then starts the services in order", () => {
    const r = runToCompletion();
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(existsSync(join(r.state, "bootstrap.done"))).toBe(true);
    expect(existsSync(join(r.state, "bootstrap.failed"))).toBe(false);

    const config = readFileSync(r.configPath, "utf8");
    expect(config).toContain(`token = "${TOKEN}"`);
    expect(config).toContain(`name = "staging-gitlab-runner-${hostname().split(".")[0]}"`);
    expect(config).not.toContain("@@");
    expect(statSync(r.configPath).mode & 0o777).toBe(0o600);
    // The token reaches the root-only file and nowhere else: not the log, not any argv.
    expect(r.log).not.toContain(TOKEN);
    expect(r.output).not.toContain(TOKEN);
    expect(r.actions.join("\n")).not.toContain(TOKEN);

    const order = [
      "dnf install -y docker amazon-cloudwatch-agent rsyslog logrotate",
      "systemctl enable --now rsyslog",
      "systemctl enable --now docker",
      "aws secretsmanager get-secret-value --region eu-west-3 --secret-id arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf --query SecretString --output text",
      "gitlab-runner install --user=gitlab-runner --working-directory=/home/gitlab-runner",
      "systemctl enable --now gitlab-runner",
      "systemctl enable --now docker-cleanup.timer spot-interruption-watcher.service",
    ];
    const at = order.map((a) => r.actions.indexOf(a));
    expect(at.every((i) => i >= 0), r.actions.join("\n")).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("refuses a runner binary whose checksum does not match, before it is installed or given a token", () => {
    const r = runToCompletion({ checksum: "bad" });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install gitlab-runner 18.5.0");
    expect(r.log).toContain("checksum mismatch");
    expect(existsSync(r.installedRunner)).toBe(false);
    expect(r.actions.some((a) => a.includes("get-secret-value"))).toBe(false);
    expect(existsSync(r.configPath)).toBe(false);
  });

  it("never installs a runner binary it could not download", () => {
    const r = runToCompletion({ download: "fails" });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install gitlab-runner 18.5.0");
    expect(r.actions.some((a) => a.startsWith("aws secretsmanager"))).toBe(false);
    expect(r.actions.some((a) => a.startsWith("install -m 0755"))).toBe(false);
    expect(existsSync(r.installedRunner)).toBe(false);
  });

  it("refuses a secret that is not a token, and never writes it anywhere", () => {
    const junk = 'not a token"; rm -rf /';
    const r = runToCompletion({ token: junk });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("write config.toml");
    expect(existsSync(r.configPath)).toBe(false);
    expect(r.log).not.toContain("rm -rf");
    expect(r.actions.some((a) => a.startsWith("systemctl enable --now gitlab-runner"))).toBe(false);
  });
});
