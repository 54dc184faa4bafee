// Runs the jobs-mode runner manager's bootstrap end to end: fake system commands first on
// PATH, a fake gitlab-runner release (checksum-verified like the real one) that records what
// it is asked and installs a "plugin" where FLEETING_PLUGIN_PATH says, the fake IMDS for the
// instance id, and the real AWS CLI against the local recorder (its token, its group's
// instances). The config.toml it starts from is the one the stack renders.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it, type TestContext } from "vitest";
import { BOOTSTRAP_FAILED_METRIC } from "../../userdata/bootstrap-metric";
import { FLEETING_PLUGIN_PATH, runnerManagerConfigToml } from "../../userdata/runner-manager-user-data";
import { shippedScript, validEnvironment, exampleYaml } from "../helpers";
import { AWS_CLI, awsCliEnv, runAwsCliTests, runScript } from "../support/aws-cli";
import { AwsRecorder, type AwsRequest, type GroupInstance } from "../support/aws-recorder";
import { FAKE_INSTANCE_ID, FakeMetadata } from "../support/fake-imds";

const SCRIPT = shippedScript("runner-manager-bootstrap.sh");
const TOKEN_SYNC = shippedScript("runner-token-sync.sh");
const TOKEN_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf";
const TOKEN = "glrt-t1_AbCdEfGhIjKlMnOpQrSt";
const MANAGER = "staging-gitlab-runner-manager";
const WORKERS = "staging-gitlab-runner-workers";
const CWAGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";

/** The config.toml template the stack renders for a jobs-mode staging. */
function renderedTemplate(): string {
  const yaml = exampleYaml("staging");
  const { concurrent: _c, minSize: _min, maxSize: _max, desiredCapacity: _d, ...shared } = yaml.runners;
  const env = validEnvironment({ ...yaml, runners: { ...shared, scaling: "jobs", capacityPerInstance: 2, maxInstances: 3 } }, "staging");
  if (env.platform !== "aws" || env.runners.scaling !== "jobs") throw new Error("expected jobs-mode runners");
  return runnerManagerConfigToml({
    settings: env.runners,
    tokenSecretId: TOKEN_ARN,
    region: "eu-west-3",
    managerGroupName: MANAGER,
    workerGroupName: WORKERS,
    gitlabUrl: "https://gitlab.example.com",
    cacheBucket: "staging-gitlab-runner-cache",
    logGroups: { runner: "/staging/gitlab-runner/runner", system: "/staging/gitlab-runner/system" },
  });
}

interface Host {
  readonly root: string;
  readonly recorder: AwsRecorder;
  readonly imds: FakeMetadata;
}

/** A test's own scratch root, AWS recorder and IMDS (the tests run concurrently), removed when it finishes. */
async function host(t: TestContext): Promise<Host> {
  const root = mkdtempSync(join(tmpdir(), "manager-bootstrap-"));
  // vitest runs a test's onTestFinished callbacks last registered first, each awaited.
  t.onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const recorder = await new AwsRecorder().start();
  t.onTestFinished(() => recorder.stop());
  const imds = await new FakeMetadata().start();
  t.onTestFinished(() => imds.stop());
  return { root, recorder, imds };
}

/** A fake command that appends "<ms> <name> <args>" to $ACTIONS, then runs `body`. */
function fake(bin: string, name: string, body: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s %s\\n' "$(date +%s%3N)" "${name} $*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

interface Options {
  /** `gitlab-runner fleeting install` fails this many times first (the registry unreachable). */
  readonly pluginFailures?: number;
  /** The manager group's instances, by describe call. */
  readonly group?: (call: number) => readonly GroupInstance[];
  readonly env?: Record<string, string>;
  /** The release's sha256 list names another binary than the one downloaded. */
  readonly badChecksum?: boolean;
}

interface Run {
  readonly status: number | null;
  readonly output: string;
  /** What is left in the run's own TMPDIR after it. */
  readonly leftInTmp: string[];
  readonly log: string;
  /** "<name> <args>", in order. */
  readonly actions: string[];
  /** The same with their time (ms). */
  readonly timed: { at: number; argv: string }[];
  readonly requests: AwsRequest[];
  readonly state: string;
  readonly at: (hostPath: string) => string;
  /** The fake IMDS it asked its instance id. */
  readonly imds: FakeMetadata;
}

/** The release binary: records its argv; `fleeting … install` puts a plugin where FLEETING_PLUGIN_PATH says (or fails). */
function releaseBinary(pluginFailures: number): string {
  return `#!/bin/sh
printf '%s %s\\n' "$(date +%s%3N)" "gitlab-runner $*" >> "$ACTIONS"
case "$*" in
  *"fleeting -c /etc/gitlab-runner/config.toml install"*)
    n=$(cat "$ROOT_DIR/plugin-attempts" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$ROOT_DIR/plugin-attempts"
    if [ "$n" -le ${pluginFailures} ]; then echo "install/update error:: registry.gitlab.com: connection refused" >&2; exit 1; fi
    mkdir -p "$BOOTSTRAP_ROOT$FLEETING_PLUGIN_PATH/registry.gitlab.com/gitlab-org/fleeting/plugins/aws/1.1.0"
    echo plugin > "$BOOTSTRAP_ROOT$FLEETING_PLUGIN_PATH/registry.gitlab.com/gitlab-org/fleeting/plugins/aws/1.1.0/plugin" ;;
esac
`;
}

/** The host as the user data leaves it: its directories, the token sync, the config template and bootstrap.env. */
function writeHostTree(at: (p: string) => string): void {
  for (const dir of ["/etc/gitlab-runner-fleet", "/etc/gitlab-runner", "/var/log", "/usr/local/bin", "/usr/local/sbin"])
    mkdirSync(at(dir), { recursive: true });
  // The token sync as the user data installs it, which the bootstrap runs.
  copyFileSync(TOKEN_SYNC, at("/usr/local/sbin/runner-token-sync"));
  chmodSync(at("/usr/local/sbin/runner-token-sync"), 0o755);
  writeFileSync(at("/etc/gitlab-runner/config.toml.template"), renderedTemplate());
  writeFileSync(
    at("/etc/gitlab-runner-fleet/bootstrap.env"),
    `RUNNER_VERSION=18.5.0\nAWS_REGION=eu-west-3\nTOKEN_SECRET_ID=${TOKEN_ARN}\nMETRIC_HOST=${MANAGER}\nMANAGER_GROUP=${MANAGER}\nFLEETING_PLUGIN_PATH=${FLEETING_PLUGIN_PATH}\n`,
  );
}

/** Commands on PATH: the real AWS CLI and curl for the fake IMDS, fakes for the rest; the release binary `curl` downloads. */
function installCommands({ root, imds }: Host, bin: string, at: (p: string) => string, options: Options): void {
  const release = releaseBinary(options.pluginFailures ?? 0);
  writeFileSync(join(root, "release-binary"), release);
  const sha = options.badChecksum ? "0".repeat(64) : createHash("sha256").update(release).digest("hex");
  for (const name of ["dnf", "systemctl", "useradd", "shutdown"]) fake(bin, name, "exit 0");
  fake(dirname(at(CWAGENT_CTL)), "amazon-cloudwatch-agent-ctl", "exit 0");
  symlinkSync(AWS_CLI, join(bin, "aws"));
  // Downloads are faked; the instance metadata is the fake IMDS, reached by the real curl.
  fake(
    bin,
    "curl",
    `case "$*" in
  *${imds.url}*) exec /usr/bin/curl "$@" ;;
esac
out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
case "$*" in
  *binaries/gitlab-runner-linux-amd64*) cp "${join(root, "release-binary")}" "$out" ;;
  *release.sha256*) printf '%s *binaries/gitlab-runner-linux-amd64\\n' ${sha} > "$out" ;;
  *) exit 22 ;;
esac`,
  );
  fake(bin, "install", `for a in "$@"; do case "$a" in ${root}/*) exec /usr/bin/install "$@" ;; esac; done`);
}

async function bootstrap(t: TestContext, options: Options = {}): Promise<Run> {
  const { root, recorder, imds } = await host(t);
  const bin = join(root, "bin");
  const tree = join(root, "host");
  const at = (p: string) => join(tree, p);
  writeHostTree(at);
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  installCommands({ root, recorder, imds }, bin, at, options);
  recorder.secrets.set(TOKEN_ARN, TOKEN);
  const group = options.group ?? (() => [{ instanceId: FAKE_INSTANCE_ID, lifecycleState: "InService" }]);
  recorder.groupInstances = (name, call) => (name === MANAGER ? group(call) : undefined);

  // An empty TMPDIR of its own: what the script's mktemp leaves behind is there to see.
  const tmp = join(root, "tmp");
  mkdirSync(tmp);
  const before = recorder.requests.length;
  const { status, output } = await runScript(SCRIPT, [], {
    TMPDIR: tmp,
    PATH: `${bin}:${process.env.PATH}`,
    ACTIONS: actions,
    ROOT_DIR: root,
    BOOTSTRAP_ROOT: tree,
    IMDS_URL: imds.url,
    BOOTSTRAP_RETRY_DELAY_MS: "20",
    PREDECESSOR_POLL_SECONDS: "0.2",
    ...awsCliEnv(recorder),
    ...options.env,
  });
  const timed = readFileSync(actions, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ at: Number(l.slice(0, l.indexOf(" "))), argv: l.slice(l.indexOf(" ") + 1) }));
  const log = at("/var/log/runner-bootstrap.log");
  return {
    status,
    output,
    leftInTmp: readdirSync(tmp),
    log: existsSync(log) ? readFileSync(log, "utf8") : "",
    actions: timed.map((a) => a.argv),
    timed,
    requests: recorder.requests.slice(before),
    state: at("/var/lib/runner-fleet"),
    at,
    imds,
  };
}

const SECRET_READ = { service: "secretsmanager", region: "eu-west-3", action: "GetSecretValue", params: { SecretId: TOKEN_ARN } };
const GROUP_READ = {
  service: "autoscaling",
  region: "eu-west-3",
  action: "DescribeAutoScalingGroups",
  params: { Action: "DescribeAutoScalingGroups", Version: "2011-01-01", "AutoScalingGroupNames.member.1": MANAGER },
};

describe.skipIf(!runAwsCliTests)("runner manager bootstrap (scaling: jobs)", { concurrent: true }, () => {
  it("installs the verified runner and writes config.toml (the token there only, 0600), installs the pinned plugin, then starts gitlab-runner and the drain watcher", async (t) => {
    const r = await bootstrap(t);
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(existsSync(join(r.state, "bootstrap.done"))).toBe(true);

    const configPath = r.at("/etc/gitlab-runner/config.toml");
    const config = parseToml(readFileSync(configPath, "utf8")) as any;
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(config.concurrent).toBe(6);
    expect(config.runners[0]).toMatchObject({ token: TOKEN, executor: "docker-autoscaler" });
    expect(config.runners[0].autoscaler).toMatchObject({ plugin: "aws:1.1", plugin_config: { name: WORKERS }, capacity_per_instance: 2, max_instances: 3 });
    for (const text of [r.log, r.output, r.actions.join("\n")]) expect(text).not.toContain(TOKEN);
    expect(readdirSync(r.at("/etc/gitlab-runner"))).toEqual(["config.toml", "config.toml.template"]);

    // The plugin went where the service looks for it (FLEETING_PLUGIN_PATH), from the written config.
    expect(existsSync(r.at(`${FLEETING_PLUGIN_PATH}/registry.gitlab.com/gitlab-org/fleeting/plugins/aws/1.1.0/plugin`))).toBe(true);
    // Its token, then its group's instances (none but itself): nothing else, through the real AWS CLI.
    expect(r.requests).toEqual([expect.objectContaining(SECRET_READ), expect.objectContaining(GROUP_READ)]);
    // The instance id came from IMDSv2: a token first, then the id with it.
    expect(r.imds.requests.map((q) => `${q.method} ${q.path}`)).toEqual(["PUT /latest/api/token", "GET /latest/meta-data/instance-id"]);
    expect(r.imds.gets("instance-id")[0]!.token).toBeDefined();

    const order = [
      "dnf install -y amazon-cloudwatch-agent rsyslog logrotate",
      "systemctl enable --now rsyslog",
      "gitlab-runner fleeting -c /etc/gitlab-runner/config.toml install",
      "gitlab-runner install --user=gitlab-runner --working-directory=/home/gitlab-runner",
      "systemctl enable --now gitlab-runner",
      "systemctl enable --now spot-interruption-watcher.service runner-token-sync.timer",
    ];
    const positions = order.map((a) => r.actions.indexOf(a));
    expect(
      positions.every((i) => i >= 0),
      r.actions.join("\n"),
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    // The manager runs no job: no Docker, no cleanup timer.
    expect(r.actions.some((a) => /docker/.test(a))).toBe(false);
    // The release was downloaded under TMPDIR, and that directory went with the install.
    expect(r.actions).toContainEqual(expect.stringMatching(/^install -m 0755 \/\S+\/manager-bootstrap-\w+\/tmp\/tmp\.\w+\/gitlab-runner /));
    expect(r.leftInTmp).toEqual([]);
  });

  it("waits until the previous manager has left its group before it starts gitlab-runner", async (t) => {
    const previous = { instanceId: "i-0fedcba9876543210", lifecycleState: "Terminating:Wait" };
    const self = { instanceId: FAKE_INSTANCE_ID, lifecycleState: "InService" };
    const r = await bootstrap(t, { group: (call) => (call <= 2 ? [previous, self] : [self]) });
    expect(r.status).toBe(0);
    const describes = r.requests.filter((q) => q.action === "DescribeAutoScalingGroups");
    expect(describes).toHaveLength(3);
    expect(r.log).toContain(`waiting for the previous manager to leave ${MANAGER}: i-0fedcba9876543210 Terminating:Wait`);
    const started = r.timed.find((a) => a.argv === "systemctl enable --now gitlab-runner")!;
    expect(started.at).toBeGreaterThanOrEqual(describes.at(-1)!.at);
  });

  it("takes the group over when the previous manager is still there after the wait (a stuck drain must not stop CI)", async (t) => {
    const stuck = { instanceId: "i-0fedcba9876543210", lifecycleState: "Terminating:Wait" };
    const r = await bootstrap(t, {
      group: () => [stuck, { instanceId: FAKE_INSTANCE_ID, lifecycleState: "InService" }],
      env: { PREDECESSOR_WAIT_SECONDS: "1" },
    });
    expect(r.status).toBe(0);
    expect(r.log).toMatch(/another manager is still in staging-gitlab-runner-manager after 1s \(i-0fedcba9876543210 Terminating:Wait \); taking over/);
    expect(r.actions).toContain("systemctl enable --now gitlab-runner");
  });

  it("retries the plugin install while the registry is unreachable, then goes on", async (t) => {
    const r = await bootstrap(t, { pluginFailures: 2 });
    expect(r.status).toBe(0);
    expect(r.actions.filter((a) => a.startsWith("gitlab-runner fleeting"))).toHaveLength(3);
    expect(r.log).toContain("installing the fleeting plugin failed (exit 1, attempt 2 of 6)");
  });

  it("stops at the plugin step when the registry stays unreachable: records it, reports it, powers off, never starts the runner", async (t) => {
    const r = await bootstrap(t, { pluginFailures: 99 });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install the fleeting plugin");
    expect(r.requests.filter((q) => q.action === "PutMetricData").map((q) => q.params)).toEqual([
      expect.objectContaining({ Namespace: BOOTSTRAP_FAILED_METRIC.namespace, "MetricData.member.1.Dimensions.member.1.Value": MANAGER }),
    ]);
    expect(r.actions.at(-1)).toMatch(/^shutdown -P \+1 runner manager bootstrap failed at step 'install the fleeting plugin'$/);
    expect(r.actions.some((a) => a.startsWith("systemctl enable --now gitlab-runner"))).toBe(false);
    expect(r.leftInTmp).toEqual([]);
  });

  it("refuses a runner binary whose checksum does not match, and leaves no download behind", async (t) => {
    const r = await bootstrap(t, { badChecksum: true });
    expect(r.status).not.toBe(0);
    expect(r.log).toContain("checksum mismatch");
    expect(r.actions.some((a) => a.startsWith("gitlab-runner "))).toBe(false);
    expect(r.leftInTmp).toEqual([]);
  });
});
