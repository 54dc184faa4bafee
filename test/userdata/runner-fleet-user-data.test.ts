import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { gzippedUserDataBytes } from "../../constructs/ec2-user-data";
import { hostScript } from "../../userdata/host-scripts";
import {
  DOCKER_CLEANUP_SCHEDULE,
  renderRunnerFleetUserData,
  TERMINATION_HOOK_NAME,
  type RunnerFleetUserDataProps,
} from "../../userdata/runner-fleet-user-data";
import { awsRunnersSection, type CpuRunnersConfig } from "../../config/schema/aws-runners";

const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab-runner/token-AbCdEf";

/** runners: in cpu mode as config/schema/aws-runners.ts defaults it, with a job memory of 3g. */
function cpuSettings(overrides: Record<string, unknown> = {}): CpuRunnersConfig {
  const parsed = awsRunnersSection.parse({ version: "18.5.0", token: { secretsManagerArn: TOKEN_ARN }, jobMemory: "3g", ...overrides });
  if (parsed.scaling !== "cpu") throw new Error("expected cpu");
  return parsed;
}

const PROPS: RunnerFleetUserDataProps = {
  settings: cpuSettings(),
  region: "eu-west-3",
  autoScalingGroupName: "staging-gitlab-runner",
  tokenSecretId: "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab-runner/token-AbCdEf",
  gitlabUrl: "https://gitlab.example.com",
  runnerName: "staging-gitlab-runner-{hostname}",
  cacheBucket: "staging-gitlab-runner-cache-20250101000000000000000001",
  logGroups: { runner: "/staging/gitlab-runner/runner", system: "/staging/gitlab-runner/system" },
};

function render(props: Partial<RunnerFleetUserDataProps> = {}) {
  const text = renderRunnerFleetUserData({ ...PROPS, ...props });
  const doc = parse(text);
  const file = (path: string): string => doc.write_files.find((f: any) => f.path === path)?.content;
  return { text, doc, file };
}

describe("renderRunnerFleetUserData", () => {
  const { text, doc, file } = render();

  it("is a #cloud-config that only writes files and runs the bootstrap", () => {
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    expect(Object.keys(doc).sort()).toEqual(["runcmd", "write_files"]);
    expect(doc.runcmd).toEqual([["/usr/local/sbin/runner-bootstrap"]]);
    // Terraform sends it gzipped: far under EC2's 16 KB.
    expect(gzippedUserDataBytes(text)).toBeLessThan(8 * 1024);
  });

  it("keeps secrets and config root-only and scripts executable", () => {
    const mode = (path: string) => doc.write_files.find((f: any) => f.path === path).permissions;
    expect(mode("/etc/gitlab-runner/config.toml.template")).toBe("0600");
    expect(mode("/etc/gitlab-runner-fleet/bootstrap.env")).toBe("0600");
    for (const s of ["runner-bootstrap", "spot-interruption-watcher", "runner-termination-handler", "docker-cleanup"])
      expect(mode(`/usr/local/sbin/${s}`)).toBe("0755");
  });

  it("renders config.toml from the shared renderer with the reference AWS installation's settings and local metrics", () => {
    const toml = parseToml(file("/etc/gitlab-runner/config.toml.template")) as any;
    expect(toml.concurrent).toBe(2);
    expect(toml.listen_address).toBe("127.0.0.1:9252");
    expect(toml.runners).toHaveLength(1);
    expect(toml.runners[0].token).toBe("@@RUNNER_TOKEN@@");
    expect(toml.runners[0].cache.s3).toEqual({ BucketName: PROPS.cacheBucket, BucketLocation: "eu-west-3", AuthenticationType: "iam" });
    const noSocket = parseToml(
      render({ settings: cpuSettings({ dockerAccess: "none", privileged: false }) }).file("/etc/gitlab-runner/config.toml.template"),
    ) as any;
    expect(noSocket.runners[0].docker.volumes).toEqual(["/cache"]);
    expect(noSocket.runners[0].docker.privileged).toBe(false);
  });

  it("substitutes the same placeholder in the token sync as config.toml carries, and ships the sync with its 5-minute timer", () => {
    expect(hostScript("runner-token-sync.sh")).toContain("@@RUNNER_TOKEN@@");
    expect(hostScript("runner-token-sync.sh")).toContain("\\{hostname\\}");
    expect(file("/usr/local/sbin/runner-token-sync")).toContain("userdata/scripts/runner-token-sync.sh without comments");
    expect(file("/etc/systemd/system/runner-token-sync.timer")).toContain("OnCalendar=*:0/5");
    expect(file("/etc/systemd/system/runner-token-sync.service")).toMatch(/^ExecStart=\/usr\/local\/sbin\/runner-token-sync$/m);
  });

  it("schedules the cleanup with a timer (every 6 h, persistent) and no cron anywhere", () => {
    expect(DOCKER_CLEANUP_SCHEDULE).toBe("*-*-* 00/6:00:00");
    expect(file("/etc/systemd/system/docker-cleanup.timer")).toContain("OnCalendar=*-*-* 00/6:00:00\nPersistent=true");
    expect(file("/etc/systemd/system/docker-cleanup.service")).toMatch(/^ExecStart=\/usr\/local\/sbin\/docker-cleanup$/m);
    expect(text).not.toMatch(/cron/i);
  });

  it("gives the watcher what the handler needs to complete the hook", () => {
    const unit = file("/etc/systemd/system/spot-interruption-watcher.service");
    expect(unit).toContain('Environment="ASG_NAME=staging-gitlab-runner"');
    expect(unit).toContain('Environment="AWS_REGION=eu-west-3"');
    expect(unit).toContain(`Environment="LIFECYCLE_HOOK_NAME=${TERMINATION_HOOK_NAME}"`);
    expect(unit).toMatch(/^WantedBy=multi-user.target$/m);
  });

  it("ships the runner log, the system log and the bootstrap log", () => {
    const agent = JSON.parse(file("/etc/gitlab-runner-fleet/cloudwatch-agent.json"));
    expect(agent.logs.logs_collected.files.collect_list.map((f: any) => `${f.file_path} → ${f.log_group_name}`)).toEqual([
      "/var/log/gitlab-runner/runner.log → /staging/gitlab-runner/runner",
      "/var/log/messages → /staging/gitlab-runner/system",
      "/var/log/runner-bootstrap.log → /staging/gitlab-runner/system",
    ]);
    expect(Object.keys(agent.metrics.metrics_collected).sort()).toEqual(["disk", "mem"]);
    expect(agent.agent).toEqual({ run_as_user: "root" });
    expect(file("/etc/logrotate.d/gitlab-runner")).toContain("copytruncate");
  });

  it("refuses values that would break the env file", () => {
    expect(() => render({ tokenSecretId: "arn:x; rm -rf /" })).toThrow(/unsafe value/);
  });
});

describe("runner-bootstrap.sh", () => {
  const script = hostScript("runner-bootstrap.sh");

  it("stops at the first failing step (set -Eeuo pipefail and an ERR trap)", () => {
    expect(script).toMatch(/^set -Eeuo pipefail$/m);
    expect(script).toMatch(/^trap 'on_bootstrap_error "runner bootstrap"' ERR$/m);
  });

  it("installs Docker, the agent and a checksum-verified pinned runner, in that order", () => {
    // The steps follow the trap; the functions they call (inlined from lib/) come before it.
    const steps = script.slice(script.indexOf(`\ntrap 'on_bootstrap_error "runner bootstrap"' ERR\n`));
    const order = [
      "dnf install -y docker",
      '"$CWAGENT_CTL" -a fetch-config',
      "systemctl enable --now docker",
      'install_gitlab_runner "$RUNNER_VERSION"',
      '"$ROOT/usr/local/sbin/runner-token-sync" --wait',
      "start_gitlab_runner",
      "docker-cleanup.timer",
    ];
    const at = order.map((s) => steps.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const install = script.slice(script.indexOf("install_gitlab_runner() {"), script.indexOf("start_gitlab_runner() {"));
    expect(install).toContain('local url="https://gitlab-runner-downloads.s3.amazonaws.com/v$1"');
    expect(install.indexOf('retry "downloading gitlab-runner $1" download_runner')).toBeLessThan(install.indexOf("sha256sum"));
    expect(install.indexOf("sha256sum")).toBeLessThan(install.indexOf('install -m 0755 "$tmp/gitlab-runner" "$RUNNER_BIN"'));
  });
});
