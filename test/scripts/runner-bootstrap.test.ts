// Runs the real runner bootstrap with fake system commands first on PATH and the real AWS CLI
// talking to a local recorder (AWS_ENDPOINT_URL): a failed bootstrap must say where it
// stopped, report the failure to CloudWatch and take its own instance out (a power-off the
// launch template turns into a termination: no IAM permission a job could use on another
// runner); a successful one must install only a verified runner and write its token into
// config.toml and nowhere else.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { shippedScript } from "../helpers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BOOTSTRAP_FAILED_METRIC } from "../../userdata/bootstrap-metric";
import { AWS_CLI, awsCliEnv, runAwsCliTests, runScript } from "../support/aws-cli";
import { AwsRecorder, type AwsRequest } from "../support/aws-recorder";

// Run as shipped in the user data (comments stripped).
const SCRIPT = shippedScript("runner-bootstrap.sh");
const TOKEN_SYNC = shippedScript("runner-token-sync.sh");
const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf";
const GROUP = "staging-gitlab-runner";

let root: string;
let recorder: AwsRecorder;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "runner-bootstrap-"));
  recorder = await new AwsRecorder().start();
});
afterEach(async () => {
  await recorder.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The scratch tree the script sees as / (BOOTSTRAP_ROOT), with the directories an AL2023 host has. */
function hostTree(): { tree: string; at: (hostPath: string) => string } {
  const tree = join(root, "host");
  const at = (hostPath: string) => join(tree, hostPath);
  for (const dir of ["/etc/gitlab-runner-fleet", "/etc/gitlab-runner", "/var/log", "/usr/local/bin", "/usr/local/sbin"])
    mkdirSync(at(dir), { recursive: true });
  // The token sync as the user data installs it, which the bootstrap runs.
  copyFileSync(TOKEN_SYNC, at("/usr/local/sbin/runner-token-sync"));
  chmodSync(at("/usr/local/sbin/runner-token-sync"), 0o755);
  return { tree, at };
}

function fake(bin: string, name: string, body: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '${name} %s\\n' "$*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

/** The real AWS CLI as `aws` on the script's PATH. */
function realAws(bin: string): void {
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, "aws"))) symlinkSync(AWS_CLI, join(bin, "aws"));
}

interface Run {
  readonly status: number | null;
  readonly output: string;
  readonly log: string;
  readonly actions: string[];
  readonly requests: AwsRequest[];
  readonly state: string;
}

async function runBootstrap(tree: string, bin: string, actions: string, env: Record<string, string> = {}): Promise<Omit<Run, "log" | "state">> {
  const before = recorder.requests.length;
  const { status, output } = await runScript(SCRIPT, [], {
    PATH: `${bin}:${process.env.PATH}`,
    ACTIONS: actions,
    BOOTSTRAP_ROOT: tree,
    ...awsCliEnv(recorder),
    ...env,
  });
  return { status, output, actions: readFileSync(actions, "utf8").trim().split("\n").filter(Boolean), requests: recorder.requests.slice(before) };
}

const BOOTSTRAP_ENV = `RUNNER_VERSION=18.5.0\nAWS_REGION=eu-west-3\nTOKEN_SECRET_ID=${TOKEN_ARN}\nMETRIC_HOST=${GROUP}\n`;

/** A bootstrap whose package install fails (dnf cannot reach its repository). */
async function runFailing(options: { region?: boolean; metric?: "refused" } = {}): Promise<Run> {
  const bin = join(root, "bin");
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  fake(bin, "dnf", 'echo "dnf: cannot reach the repository" >&2; exit 1');
  fake(bin, "shutdown", "exit 0");
  fake(bin, "curl", "exit 7");
  realAws(bin);
  if (options.metric === "refused")
    recorder.fault = (q) => (q.action === "PutMetricData" ? { code: "AccessDenied", message: "not authorized", status: 403 } : undefined);
  const { tree, at } = hostTree();
  writeFileSync(at("/etc/gitlab-runner-fleet/bootstrap.env"), options.region === false ? BOOTSTRAP_ENV.replace("AWS_REGION=eu-west-3\n", "") : BOOTSTRAP_ENV);
  const r = await runBootstrap(tree, bin, actions);
  const log = at("/var/log/runner-bootstrap.log");
  return { ...r, log: existsSync(log) ? readFileSync(log, "utf8") : "", state: at("/var/lib/runner-fleet") };
}

const FAILURE_METRIC = {
  Action: "PutMetricData",
  Version: "2010-08-01",
  Namespace: BOOTSTRAP_FAILED_METRIC.namespace,
  "MetricData.member.1.MetricName": BOOTSTRAP_FAILED_METRIC.name,
  "MetricData.member.1.Value": "1",
  "MetricData.member.1.Unit": "Count",
  "MetricData.member.1.Dimensions.member.1.Name": "Host",
  "MetricData.member.1.Dimensions.member.1.Value": GROUP,
};

describe.skipIf(!runAwsCliTests)("runner bootstrap failure", () => {
  it("stops at the failed step, records it, reports it to CloudWatch and powers its own instance off", async () => {
    const r = await runFailing();
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install packages");
    expect(r.output).toContain("FAILED at step 'install packages'");
    // The failed step, then the power-off, and nothing of the bootstrap after it.
    expect(r.actions).toEqual([
      "dnf install -y docker amazon-cloudwatch-agent rsyslog logrotate",
      "shutdown -P +1 runner bootstrap failed at step 'install packages'",
    ]);
    // One API call: the metric the bootstrap-failed alarm watches. No SetInstanceHealth:
    // the role cannot mark any runner unhealthy, this one included.
    expect(r.requests.map((q) => [q.service, q.region, q.params])).toEqual([["monitoring", "eu-west-3", FAILURE_METRIC]]);
    expect(r.output).toContain("powering off in 1 minute");
  });

  it("still powers off when CloudWatch refuses the metric, keeping the step's failure as the exit status", async () => {
    const r = await runFailing({ metric: "refused" });
    expect(r.status).toBe(1);
    expect(r.requests.map((q) => q.action)).toEqual(["PutMetricData"]);
    expect(r.output).toContain("could not report the failure to CloudWatch");
    expect(r.actions.at(-1)).toMatch(/^shutdown -P \+1 /);
    expect(existsSync(join(r.state, "bootstrap.failed"))).toBe(true);
  });

  it("fails on a config without a region, without calling AWS or installing anything, and takes the instance out", async () => {
    const r = await runFailing({ region: false });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("AWS_REGION");
    expect(r.requests).toEqual([]);
    expect(r.actions.some((a) => a.startsWith("dnf "))).toBe(false);
    expect(r.actions.at(-1)).toMatch(/^shutdown -P \+1 /);
  });
});

// The whole bootstrap with every system command faked: a runner "release" whose checksum
// list matches (or not), a token in Secrets Manager, and the config written into the scratch
// tree. `install` only really installs into the scratch directory.
const TOKEN = "glrt-t1_AbCdEfGhIjKlMnOpQrSt";
/** Installed by the agent's package (dnf is faked: the test puts it there). */
const CWAGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";

async function runToCompletion(options: { checksum?: "good" | "bad"; download?: "fails"; token?: string; env?: Record<string, string>; sleep?: "fake" } = {}) {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const { tree, at } = hostTree();
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  writeFileSync(
    at("/etc/gitlab-runner/config.toml.template"),
    'concurrent = 2\n[[runners]]\nname = "staging-gitlab-runner-{hostname}"\ntoken = "@@RUNNER_TOKEN@@"\n',
  );
  const release = '#!/bin/sh\nprintf \'gitlab-runner %s\\n\' "$*" >> "$ACTIONS"\n';
  writeFileSync(join(root, "release-binary"), release);
  const sha = options.checksum === "bad" ? "0".repeat(64) : createHash("sha256").update(release).digest("hex");
  fake(bin, "dnf", "exit 0");
  fake(bin, "systemctl", "exit 0");
  fake(bin, "useradd", "exit 0");
  fake(dirname(at(CWAGENT_CTL)), "amazon-cloudwatch-agent-ctl", "exit 0");
  fake(bin, "shutdown", "exit 0");
  // A fake clock: sleep only records how long it was asked to wait.
  if (options.sleep === "fake") fake(bin, "sleep", "exit 0");
  realAws(bin);
  recorder.secrets.set(TOKEN_ARN, options.token ?? TOKEN);
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
  writeFileSync(at("/etc/gitlab-runner-fleet/bootstrap.env"), BOOTSTRAP_ENV);
  // An empty TMPDIR of its own: what the script's mktemp leaves behind is there to see.
  const tmp = join(root, "tmp");
  mkdirSync(tmp);
  const r = await runBootstrap(tree, bin, actions, { TMPDIR: tmp, ...options.env });
  const log = at("/var/log/runner-bootstrap.log");
  return {
    ...r,
    leftInTmp: readdirSync(tmp),
    log: existsSync(log) ? readFileSync(log, "utf8") : "",
    state: at("/var/lib/runner-fleet"),
    configPath: at("/etc/gitlab-runner/config.toml"),
    installedRunner: at("/usr/local/bin/gitlab-runner"),
  };
}

const SECRET_READ = { service: "secretsmanager", region: "eu-west-3", action: "GetSecretValue", params: { SecretId: TOKEN_ARN } };

describe.skipIf(!runAwsCliTests)("runner bootstrap, start to finish", () => {
  it("installs the verified runner, writes config.toml with the token, then starts the services in order", async () => {
    const r = await runToCompletion();
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
    // Exactly one API call: its own token, through the real AWS CLI.
    expect(r.requests).toEqual([expect.objectContaining(SECRET_READ)]);

    const order = [
      "dnf install -y docker amazon-cloudwatch-agent rsyslog logrotate",
      "systemctl enable --now rsyslog",
      "systemctl enable --now docker",
      "gitlab-runner install --user=gitlab-runner --working-directory=/home/gitlab-runner",
      "systemctl enable --now gitlab-runner",
      "systemctl enable --now docker-cleanup.timer spot-interruption-watcher.service runner-token-sync.timer",
    ];
    const at = order.map((a) => r.actions.indexOf(a));
    expect(
      at.every((i) => i >= 0),
      r.actions.join("\n"),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(r.actions.some((a) => a.startsWith("shutdown"))).toBe(false);
    // The binary was downloaded under TMPDIR, and that directory went with the install.
    expect(r.actions.find((a) => a.startsWith("install -m 0755"))).toContain(`${join(root, "tmp")}/`);
    expect(r.leftInTmp).toEqual([]);
  });

  it("waits for the token while the secret has no version yet (the -gitlab stack not applied) or the role's policy propagates, then goes on", async () => {
    recorder.failFirst("GetSecretValue", 1, { code: "AccessDeniedException", message: "not authorized to perform: secretsmanager:GetSecretValue" });
    recorder.failFirst("GetSecretValue", 2, {
      code: "ResourceNotFoundException",
      message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    });
    const r = await runToCompletion({ sleep: "fake" });
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(r.requests).toEqual([0, 1, 2, 3].map(() => expect.objectContaining(SECRET_READ)));
    // The production interval, on a fake clock: three waits of 30 s, no real sleeping.
    expect(r.actions.filter((a) => a.startsWith("sleep "))).toEqual(["sleep 30", "sleep 30", "sleep 30"]);
    expect(r.log).toContain("waiting for the runner token (the `-gitlab` stack writes it):");
    expect(r.log).toContain("can't find the specified secret value");
    expect(r.log).toContain("not authorized");
    expect(readFileSync(r.configPath, "utf8")).toContain(`token = "${TOKEN}"`);
    expect(r.actions).toContain("systemctl enable --now docker-cleanup.timer spot-interruption-watcher.service runner-token-sync.timer");
  });

  it("gives up after its bound without a token (30 minutes on the host): the step fails, the instance powers off and Auto Scaling tries again", async () => {
    expect(readFileSync(TOKEN_SYNC, "utf8")).toContain('readonly WAIT_SECONDS="${TOKEN_WAIT_SECONDS:-1800}"');
    recorder.fault = (q) =>
      q.action === "GetSecretValue"
        ? { code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT" }
        : undefined;
    // A shorter bound than the host's, so that the real AWS CLI runs 6 times, not 61.
    const r = await runToCompletion({ sleep: "fake", env: { TOKEN_WAIT_SECONDS: "150" } });
    expect(r.status).not.toBe(0);
    // 5 waits of 30 s on the fake clock, then one last try: the bound, and not a second more.
    expect(r.actions.filter((a) => a.startsWith("sleep "))).toEqual(Array.from({ length: 5 }, () => "sleep 30"));
    expect(r.requests.filter((q) => q.action === "GetSecretValue")).toHaveLength(6);
    expect(r.log).toContain("no readable version of the runner token after 150s");
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("write config.toml");
    expect(existsSync(r.configPath)).toBe(false);
    expect(r.actions.at(-1)).toMatch(/^shutdown -P \+1 /);
  });

  it("refuses a runner binary whose checksum does not match, before it is installed or given a token", async () => {
    const r = await runToCompletion({ checksum: "bad" });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install gitlab-runner 18.5.0");
    expect(r.log).toContain("checksum mismatch");
    expect(existsSync(r.installedRunner)).toBe(false);
    expect(r.requests.filter((q) => q.action === "GetSecretValue")).toEqual([]);
    expect(existsSync(r.configPath)).toBe(false);
    // Nor left on the host: the download directory, the refused binary in it, is gone.
    expect(r.leftInTmp).toEqual([]);
  });

  it("never installs a runner binary it could not download", async () => {
    const r = await runToCompletion({ download: "fails", env: { BOOTSTRAP_RETRY_DELAY_MS: "10" } });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install gitlab-runner 18.5.0");
    expect(r.requests.filter((q) => q.action === "GetSecretValue")).toEqual([]);
    expect(r.actions.some((a) => a.startsWith("install -m 0755"))).toBe(false);
    expect(existsSync(r.installedRunner)).toBe(false);
    expect(r.leftInTmp).toEqual([]);
  });

  it("refuses a secret that is not a token, and never writes it anywhere", async () => {
    const junk = 'not a token"; rm -rf /';
    const r = await runToCompletion({ token: junk });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("write config.toml");
    expect(existsSync(r.configPath)).toBe(false);
    expect(r.log).not.toContain("rm -rf");
    expect(r.actions.some((a) => a.startsWith("systemctl enable --now gitlab-runner"))).toBe(false);
  });
});
