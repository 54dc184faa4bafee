// Runs the real GitLab server bootstrap, as shipped in the user data, against a scratch tree
// (BOOTSTRAP_ROOT) with fake system commands first on PATH and the real AWS CLI talking to a
// local recorder (AWS_ENDPOINT_URL): every step in order, files created with the right modes
// (secrets root-only, apt's keyring readable by apt's _apt user), a failed step that stops
// everything after it and says where, apt that waits for the dpkg lock, and network steps
// retried with bounded backoff (BOOTSTRAP_RETRY_DELAY_MS shortens the delays here).
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { it as base, describe, expect } from "vitest";
import { BOOTSTRAP_FAILED_METRIC } from "../../userdata/bootstrap-metric";
import { OMNIBUS_ACCOUNTS, renderDataOwnersList } from "../../userdata/omnibus-accounts";
import { shippedScript } from "../helpers";
import { AWS_CLI, awsCliEnv, runAwsCliTests, runScript } from "../support/aws-cli";
import { AwsRecorder, type AwsRequest } from "../support/aws-recorder";

const SCRIPT = shippedScript("gitlab-bootstrap.sh");
const DATA_OWNERS_SCRIPT = shippedScript("gitlab-data-owners.sh");

const VERSION = "18.5.1-ce.0";
const VOLUME = "vol-0123456789abcdef0";
const DEVICE = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0";
const UUID = "0b5e1c9a-3f1d-4e57-9a0e-8c2d6f4b7a11";
const SMTP_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:smtp-AbCdEf";
const TLS_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:tls-AbCdEf";
const AUTOMATION_SECRET = "staging-gitlab/automation-token";

/**
 * One test's host: its scratch tree, its fake commands, its AWS recorder and the processes it
 * starts beside the bootstrap. Each test has its own (the \`host\` fixture), so they run concurrently:
 * most of a run is waiting on processes (the AWS CLI, the retries' delays, apt's locks).
 */
class Host {
  readonly root = mkdtempSync(join(tmpdir(), "gitlab-bootstrap-"));
  readonly bin = mkdtempSync(join(tmpdir(), "gitlab-bootstrap-bin-"));
  readonly recorder = new AwsRecorder();
  /** Processes started beside the bootstrap (a dpkg lock holder); killed when the test ends. */
  readonly companions: ChildProcess[] = [];

  async start(): Promise<this> {
    await this.recorder.start();
    this.recorder.secrets.set(SMTP_ARN, "smtp-secret");
    this.recorder.secrets.set(TLS_ARN, "tls-secret");
    return this;
  }

  async close(): Promise<void> {
    for (const c of this.companions.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
    await this.recorder.stop();
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.bin, { recursive: true, force: true });
  }

  /** A file in the scratch tree, by its host path. (Arrow functions: the helpers below destructure them.) */
  readonly at = (hostPath: string): string => join(this.root, hostPath);

  readonly put = (hostPath: string, content: string, mode = 0o644): void => {
    mkdirSync(dirname(this.at(hostPath)), { recursive: true });
    writeFileSync(this.at(hostPath), content);
    chmodSync(this.at(hostPath), mode);
  };

  mode(hostPath: string): number {
    return statSync(this.at(hostPath)).mode & 0o777;
  }

  /** A fake command on the bootstrap's PATH (see fakeAt). */
  fake(name: string, body = "exit 0"): void {
    fakeAt(join(this.bin, name), name, body);
  }

  holdLock(hostPath: string, ms: number): Promise<void> {
    return holdLock(this, hostPath, ms);
  }

  run(options: Options = {}): Promise<Run> {
    return runBootstrap(this, options);
  }
}

const it = base.extend<{ host: Host }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern
  host: async ({}, use) => {
    const host = await new Host().start();
    try {
      await use(host);
    } finally {
      await host.close();
    }
  },
});

/** An executable that records its name and arguments in $ACTIONS, then runs `body`. */
function fakeAt(path: string, name: string, body: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\nprintf '${name} %s\\n' "$*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(path, 0o755);
}

interface Options {
  /** blkid -p's exit status: 2 = no signature (blank), 0 = has a filesystem. @default 2 */
  readonly probe?: number;
  /** Whether the data volume's device ever appears. @default "nvme" */
  readonly volume?: "nvme" | "xvdf" | "never";
  /** Make `apt-get update` fail this many times (the repository is unreachable). @default 0 */
  readonly aptUpdateFailures?: number;
  /** The CloudWatch agent: already on the image, or downloaded (or not: "fails") with a key and signature. @default "installed" */
  readonly agent?: "installed" | "fails" | { readonly key: "aws" | "other"; readonly signature: "good" | "bad" };
  /** Environment for the bootstrap beyond the harness's own (e.g. BOOTSTRAP_RETRY_DELAY_MS). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Whether secrets.list names the two secrets. Tests of other steps leave it empty: each
   * secret is an AWS CLI run (~1 s), and they have nothing to say about it. @default true
   */
  readonly secrets?: boolean;
  /** bootstrap.env names the automation token's secret, and its script succeeds or fails. @default not named */
  readonly automationToken?: "ok" | "fail";
}

/** The fingerprint AWS publishes for the CloudWatch agent's signing key. */
const AGENT_KEY = "937616F3450B7D806CBD9725D58167303B789C72";
const CWAGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";
/** The locks apt takes, in the scratch tree: the dpkg frontend lock and the package lists' lock. */
const DPKG_LOCK = "/var/lib/dpkg/lock-frontend";
const LISTS_LOCK = "/var/lib/apt/lists/lock";
/** Retry delays in the tests: 50 ms, then doubled (production: 5 s, doubled, at most 60 s). */
const FAST_RETRIES = { BOOTSTRAP_RETRY_DELAY_MS: "50" };
/** For runs that exhaust the retries and assert on what happens after, not on the delays: 1 ms, doubled. */
const INSTANT_RETRIES = { BOOTSTRAP_RETRY_DELAY_MS: "1" };

/**
 * Holds one of apt's locks the way unattended-upgrades or apt-daily do at first boot (flock on
 * the lock file), for `ms`; resolves once the lock is really held.
 */
function holdLock(host: Host, hostPath: string, ms: number): Promise<void> {
  mkdirSync(dirname(host.at(hostPath)), { recursive: true });
  writeFileSync(host.at(hostPath), "");
  const holder = spawn("flock", ["--exclusive", host.at(hostPath), "sh", "-c", `echo held; sleep ${ms / 1000}`], { stdio: ["ignore", "pipe", "inherit"] });
  host.companions.push(holder);
  return new Promise((resolve, reject) => {
    holder.stdout!.once("data", () => resolve());
    holder.once("error", reject);
  });
}

/**
 * apt-get as it behaves on the host: `install` takes the dpkg frontend lock, waiting up to
 * DPkg::Lock::Timeout (0 without the option: it fails at once, as apt does); `update` takes the
 * lists lock and does not wait. A .deb path as argument installs the CloudWatch agent's package.
 */
const FAKE_APT_GET = (umasks: string, updateFailures: number) => `echo "apt-get $(umask)" >> "${umasks}"
wait=0 cmd=""
for a in "$@"; do
  case "$a" in
    DPkg::Lock::Timeout=*) wait=\${a#*=} ;;
    update | install) [ -n "$cmd" ] || cmd=$a ;;
  esac
done
take() { # <lock file> <seconds to wait>
  mkdir -p "$(dirname "$1")"
  if [ "$2" -gt 0 ]; then flock --exclusive --wait "$2" "$1" true; else flock --exclusive --nonblock "$1" true; fi ||
    { echo "E: Could not get lock $1. It is held by process 4242 (unattended-upgr)" >&2; exit 100; }
}
case "$cmd" in
  update)
    take "$BOOTSTRAP_ROOT${LISTS_LOCK}" 0
    n=$(cat "$BOOTSTRAP_ROOT/apt-update-failures" 2>/dev/null || echo 0)
    if [ "$n" -lt ${updateFailures} ]; then echo $((n + 1)) > "$BOOTSTRAP_ROOT/apt-update-failures"; echo "E: Failed to fetch https://packages.gitlab.com/ (Could not resolve host)" >&2; exit 100; fi ;;
  install)
    take "$BOOTSTRAP_ROOT${DPKG_LOCK}" "$wait"
    case "$*" in
      *.deb*) mkdir -p "$BOOTSTRAP_ROOT${dirname(CWAGENT_CTL)}" && printf '#!/bin/sh\\nprintf "amazon-cloudwatch-agent-ctl %%s\\\\n" "$*" >> "$ACTIONS"\\n' > "$BOOTSTRAP_ROOT${CWAGENT_CTL}" && chmod +x "$BOOTSTRAP_ROOT${CWAGENT_CTL}" ;;
      *) [ -e "$BOOTSTRAP_ROOT/etc/gitlab/skip-auto-reconfigure" ] || { echo "installed before skip-auto-reconfigure" >&2; exit 1; } ;;
    esac ;;
esac`;

interface Run {
  readonly status: number | null;
  readonly output: string;
  readonly log: string;
  readonly actions: string[];
  readonly umasks: string[];
  /** What is left in the run's own TMPDIR after it. */
  readonly leftInTmp: string[];
  /** The AWS API requests the real CLI sent, in order. */
  readonly requests: AwsRequest[];
  readonly failed: string | undefined;
  readonly done: boolean;
}

/** The host as cloud-init leaves it: the user data's files, an fstab, Ubuntu's apt dirs. */
function writeHostFiles({ at, put }: Pick<Host, "at" | "put">, options: Options): void {
  put(
    "/etc/gitlab-platform/bootstrap.env",
    `GITLAB_VERSION=${VERSION}\nAWS_REGION=eu-west-3\nDATA_VOLUME_ID=${VOLUME}\nMETRIC_HOST=staging-gitlab-server\nENABLE_UNITS="gitlab-backup.timer x.service"\n${options.automationToken ? `AUTOMATION_TOKEN_STORE=aws-secret:${AUTOMATION_SECRET}\n` : ""}`,
    0o600,
  );
  put("/etc/gitlab-platform/secrets.list", options.secrets === false ? "" : `smtp_password ${SMTP_ARN}\ntls_private_key ${TLS_ARN}\n`, 0o600);
  put("/etc/gitlab-platform/cloudwatch-agent.json", "{}\n", 0o644);
  put("/etc/gitlab/gitlab.rb", "external_url 'https://gitlab.example.com'\n", 0o600);
  put("/etc/fstab", "LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n");
  put("/etc/os-release", 'NAME="Ubuntu"\nVERSION_CODENAME=noble\n');
  for (const dir of ["/etc/apt/sources.list.d", "/var/log"]) mkdirSync(at(dir), { recursive: true });
  if (options.volume !== "never") put(options.volume === "xvdf" ? "/dev/xvdf" : DEVICE, "");
}

/** Programs the bootstrap runs by absolute path, installed in the scratch tree. */
function installHostPrograms({ at, put }: Pick<Host, "at" | "put">, options: Options): void {
  fakeAt(at("/usr/local/sbin/gitlab-keep-identity"), "gitlab-keep-identity", "exit 0");
  fakeAt(at("/usr/local/sbin/gitlab-apply-settings"), "gitlab-apply-settings", "exit 0");
  // Tested on its own (gitlab-automation-token.test.ts): here, what it is given.
  fakeAt(
    at("/usr/local/sbin/gitlab-automation-token"),
    "gitlab-automation-token",
    `printf 'gitlab-automation-token env %s %s\\n' "$AUTOMATION_TOKEN_STORE" "$AWS_REGION" >> "$ACTIONS"; exit ${options.automationToken === "fail" ? 3 : 0}`,
  );
  // The owners check is the real script, with the list the user data ships.
  put("/usr/local/sbin/gitlab-data-owners", readFileSync(DATA_OWNERS_SCRIPT, "utf8"), 0o755);
  put("/etc/gitlab-platform/data-owners.list", renderDataOwnersList(), 0o644);
  const agent = options.agent ?? "installed";
  if (agent === "installed") fakeAt(at(CWAGENT_CTL), "amazon-cloudwatch-agent-ctl", "exit 0");
}

/** Commands found on PATH: the real AWS CLI, and fakes for what changes the host (gitlab-ctl and apt-get log their umask to `umasks`). */
function installPathCommands(host: Host, options: Options, umasks: string): void {
  const { bin, root } = host;
  const fake = (name: string, body?: string) => host.fake(name, body);
  if (!existsSync(join(bin, "aws"))) symlinkSync(AWS_CLI, join(bin, "aws"));
  // The volume wait's 60 x 5 s is instant here; the retries' short test delays really pass.
  fake("sleep", 'case "$1" in 0.*) exec /bin/sleep "$1" ;; esac');
  fake("rsyslogd");
  fake("systemctl");
  fake("blkid", `case "$1" in -p) exit ${options.probe ?? 2} ;; -s) echo ${UUID} ;; *) exit 9 ;; esac`);
  fake("mkfs.ext4");
  fake("mount", `touch "${join(root, "mounted")}"`);
  fake("mountpoint", `[ -e "${join(root, "mounted")}" ]`);
  fake(
    "curl",
    `out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
case "$*" in
  *packages.gitlab.com/gitlab/gitlab-ce/gpgkey) echo "-----BEGIN PGP PUBLIC KEY BLOCK-----" ;;
  *amazoncloudwatch-agent*) ${options.agent === "fails" ? "exit 22" : 'echo "agent download" > "$out"'} ;;
  *) exit 22 ;;
esac`,
  );
  const agent = options.agent ?? "installed";
  const agentKey = typeof agent === "object" && agent.key === "other" ? "0123456789ABCDEF0123456789ABCDEF01234567" : AGENT_KEY;
  const agentSignature = typeof agent === "object" && agent.signature === "bad" ? 'echo "gpg: BAD signature" >&2; exit 1' : "exit 0";
  // Dearmors GitLab's key as gpg does (the output file created with the process's umask);
  // for the agent: imports, lists the imported key's fingerprint, checks the signature.
  fake(
    "gpg",
    `case "$*" in
  *--import*) exit 0 ;;
  *--fingerprint*) echo "pub:-:4096:1:D58167303B789C72:::::::scESC:"; echo "fpr:::::::::${agentKey}:" ;;
  *--verify*) ${agentSignature} ;;
  *) out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done; cat > "$out" ;;
esac`,
  );
  fake("apt-get", FAKE_APT_GET(umasks, options.aptUpdateFailures ?? 0));
  fake("apt-mark");
  fake("gitlab-ctl", `echo "gitlab-ctl $(umask)" >> "${umasks}"`);
  fake("snap", "exit 1");
  fake("dpkg", 'echo "dpkg does not wait for the lock: install through apt" >&2; exit 2');
  // Recorded, never real: a failed server bootstrap must not power off (the runners' does).
  fake("shutdown");
}

async function runBootstrap(host: Host, options: Options): Promise<Run> {
  const { root, bin, recorder } = host;
  const at = (p: string) => host.at(p);
  const actions = join(root, "actions.log");
  const umasks = join(root, "umask.log");
  writeFileSync(actions, "");
  writeFileSync(umasks, "");

  writeHostFiles(host, options);
  installHostPrograms(host, options);
  installPathCommands(host, options, umasks);

  // An empty TMPDIR of its own (the scratch tree's /tmp): what mktemp leaves there is seen.
  const tmp = at("/tmp");
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const before = recorder.requests.length;
  const { status, output } = await runScript(SCRIPT, [], {
    TMPDIR: tmp,
    PATH: `${bin}:${process.env.PATH}`,
    ACTIONS: actions,
    BOOTSTRAP_ROOT: root,
    ...awsCliEnv(recorder),
    ...options.env,
  });
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
  return {
    status,
    output,
    log: read(at("/var/log/gitlab-bootstrap.log")),
    actions: read(actions)
      .trim()
      .split("\n")
      .map((a) => a.trimEnd())
      .filter(Boolean),
    umasks: read(umasks).trim().split("\n").filter(Boolean),
    leftInTmp: readdirSync(tmp),
    requests: recorder.requests.slice(before),
    failed: existsSync(at("/var/lib/gitlab-platform/bootstrap.failed")) ? read(at("/var/lib/gitlab-platform/bootstrap.failed")).trim() : undefined,
    done: existsSync(at("/var/lib/gitlab-platform/bootstrap.done")),
  };
}

/** A GetSecretValue request for `arn`, as Secrets Manager receives it. */
const secretRequest = (arn: string) =>
  expect.objectContaining({ service: "secretsmanager", region: "eu-west-3", action: "GetSecretValue", params: { SecretId: arn } });

const LOCK = `-o DPkg::Lock::Timeout=900`;

describe.skipIf(!runAwsCliTests).concurrent("GitLab bootstrap, start to finish", () => {
  it("locks sshd to git, mounts the volume, installs and configures GitLab, then enables the host units, in that order", async ({ host }) => {
    const r = await host.run();
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(r.done).toBe(true);
    expect(r.failed).toBeUndefined();
    expect(r.log).toContain(`GitLab ${VERSION} is configured`);
    // Exactly these commands, in this order: the mount before the install, the kept identity
    // restored before reconfigure and saved after it, the host units last. (gpg runs beside
    // curl in a pipeline, so either may log first: gpg is checked on its own below.)
    expect(r.actions.filter((a) => !a.startsWith("gpg "))).toEqual([
      "systemctl try-reload-or-restart ssh.service",
      `blkid -p ${DEVICE}`,
      `mkfs.ext4 -q -L gitlab-data ${DEVICE}`,
      `blkid -s UUID -o value ${DEVICE}`,
      "mountpoint -q /var/opt/gitlab",
      "mount /var/opt/gitlab",
      "mountpoint -q /var/opt/gitlab",
      "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/etc/gitlab-platform/cloudwatch-agent.json",
      "gitlab-keep-identity restore",
      "systemctl try-restart ssh.service",
      "curl -fsSL https://packages.gitlab.com/gitlab/gitlab-ce/gpgkey",
      `apt-get ${LOCK} update -q`,
      `apt-get ${LOCK} install -y -q gitlab-ce=${VERSION}`,
      `apt-mark ${LOCK} hold gitlab-ce`,
      "gitlab-ctl reconfigure",
      "gitlab-keep-identity save",
      "gitlab-apply-settings",
      "systemctl daemon-reload",
      "systemctl enable --now gitlab-backup.timer x.service",
    ]);
    // The secrets, through the real AWS CLI, between the agent's start and the identity restore.
    expect(r.requests).toEqual([secretRequest(SMTP_ARN), secretRequest(TLS_ARN)]);
    const gpg = r.actions.indexOf(`gpg --dearmor --yes -o ${host.at("/etc/apt/keyrings/gitlab-ce.gpg")}`);
    expect(gpg).toBeGreaterThan(r.actions.indexOf("systemctl try-restart ssh.service"));
    expect(gpg).toBeLessThan(r.actions.indexOf(`apt-get ${LOCK} update -q`));
    expect(readFileSync(host.at("/etc/fstab"), "utf8")).toBe(
      `LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\nUUID=${UUID} /var/opt/gitlab ext4 defaults,nofail,x-systemd.device-timeout=120 0 2\n`,
    );
    expect(readFileSync(host.at("/etc/apt/sources.list.d/gitlab-ce.list"), "utf8")).toBe(
      "deb [signed-by=/etc/apt/keyrings/gitlab-ce.gpg] https://packages.gitlab.com/gitlab/gitlab-ce/ubuntu/ noble main\n",
    );
  });

  it("creates only the secret files root-only: apt's keyring and source, apt and reconfigure get the usual umask", async ({ host }) => {
    const r = await host.run();
    expect(r.status).toBe(0);
    expect(host.mode("/etc/gitlab/secrets.d")).toBe(0o700);
    expect(readFileSync(host.at("/etc/gitlab/secrets.d/smtp_password"), "utf8")).toBe("smtp-secret\n");
    expect(readFileSync(host.at("/etc/gitlab/secrets.d/tls_private_key"), "utf8")).toBe("tls-secret\n");
    expect(host.mode("/etc/gitlab/secrets.d/smtp_password")).toBe(0o600);
    expect(host.mode("/etc/gitlab/secrets.d/tls_private_key")).toBe(0o600);
    // apt verifies signatures as the unprivileged _apt user: a root-only keyring is "not signed".
    expect(host.mode("/etc/apt/keyrings")).toBe(0o755);
    expect(host.mode("/etc/apt/keyrings/gitlab-ce.gpg")).toBe(0o644);
    expect(host.mode("/etc/apt/sources.list.d/gitlab-ce.list")).toBe(0o644);
    expect(r.umasks).toEqual(["apt-get 0022", "apt-get 0022", "gitlab-ctl 0022"]);
    // The secrets reach their files and nothing else.
    expect(r.log).not.toMatch(/smtp-secret|tls-secret/);
  });

  it("finds a volume attached as /dev/xvdf and keeps an existing filesystem and fstab entry", async ({ host }) => {
    host.put("/etc/fstab", `UUID=${UUID} /var/opt/gitlab ext4 defaults,nofail,x-systemd.device-timeout=120 0 2\n`);
    const r = await host.run({ volume: "xvdf", probe: 0, secrets: false });
    expect(r.status).toBe(0);
    expect(r.actions).toContain("blkid -p /dev/xvdf");
    expect(r.actions.some((a) => a.startsWith("mkfs"))).toBe(false);
    expect(readFileSync(host.at("/etc/fstab"), "utf8").match(/UUID=/g)).toHaveLength(1);
  });
});

describe.skipIf(!runAwsCliTests).concurrent("GitLab bootstrap: the automation token", () => {
  it("ensures it last, after the host units, with its secret and region, and is done", async ({ host }) => {
    const r = await host.run({ automationToken: "ok", secrets: false });
    expect(r.status, r.output).toBe(0);
    expect(r.actions.slice(-3)).toEqual([
      "systemctl enable --now gitlab-backup.timer x.service",
      "gitlab-automation-token",
      `gitlab-automation-token env aws-secret:${AUTOMATION_SECRET} eu-west-3`,
    ]);
    expect(r.done).toBe(true);
  });

  it("a failure is the bootstrap's (alarm, marker), but backups and the renewal timer are already enabled", async ({ host }) => {
    const r = await host.run({ automationToken: "fail", secrets: false });
    expect(r.status).toBe(3);
    expect(r.failed).toBe("ensure the automation token");
    expect(r.actions).toContain("systemctl enable --now gitlab-backup.timer x.service");
    expect(r.requests.map((q) => q.action)).toEqual(["PutMetricData"]);
    expect(r.done).toBe(false);
  });

  it("is skipped where bootstrap.env names no store", async ({ host }) => {
    const r = await host.run({ secrets: false });
    expect(r.status).toBe(0);
    expect(r.actions.some((a) => a.startsWith("gitlab-automation-token"))).toBe(false);
  });
});

describe.skipIf(!runAwsCliTests).concurrent("GitLab bootstrap on a fresh image: apt's locks and a network that comes and goes", () => {
  it("waits for the dpkg lock unattended-upgrades holds at first boot, and installs GitLab once it is released", async ({ host }) => {
    await host.holdLock(DPKG_LOCK, 1500);
    const started = Date.now();
    const r = await host.run({ secrets: false });
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(r.done).toBe(true);
    expect(r.actions).toContain(`apt-get ${LOCK} install -y -q gitlab-ce=${VERSION}`);
    // It waited for the lock rather than failing: the install ended after the holder let go.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r.log).not.toContain("Could not get lock");
  });

  it("passes the lock timeout to every apt call, and installs the CloudWatch agent's .deb through apt, never dpkg -i", async ({ host }) => {
    const r = await host.run({ agent: { key: "aws", signature: "good" }, secrets: false });
    expect(r.status).toBe(0);
    const apt = r.actions.filter((a) => /^(apt-get|apt-mark|dpkg) /.test(a));
    expect(apt.length).toBeGreaterThanOrEqual(4);
    for (const a of apt) expect(a).toMatch(/^apt-(get|mark) -o DPkg::Lock::Timeout=900 /);
    expect(apt).toContainEqual(expect.stringMatching(/^apt-get -o DPkg::Lock::Timeout=900 install -y -q \/\S+\/agent\.deb$/));
  });

  it("retries apt-get update while the package lists' lock is held or the repository is unreachable, with growing delays", async ({ host }) => {
    await host.holdLock(LISTS_LOCK, 300);
    const r = await host.run({ aptUpdateFailures: 2, env: FAST_RETRIES, secrets: false });
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    const updates = r.actions.filter((a) => a === `apt-get ${LOCK} update -q`);
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(r.log).toMatch(/apt-get update failed \(exit 100, attempt 1 of 6\); retrying in 0\.050s/);
    expect(r.log).toMatch(/apt-get update failed \(exit 100, attempt 2 of 6\); retrying in 0\.100s/);
  });

  it("gives up after 6 attempts about 2 minutes apart in all (5 s, doubling, at most 60 s), keeping apt's exit status", async ({ host }) => {
    const r = await host.run({ aptUpdateFailures: 99, secrets: false });
    expect(r.status).toBe(100);
    expect(r.failed).toBe("add GitLab package repository");
    expect(r.actions.filter((a) => a === `apt-get ${LOCK} update -q`)).toHaveLength(6);
    // The production delays (the harness's sleep is instant for whole seconds).
    expect(r.actions.filter((a) => a.startsWith("sleep "))).toEqual(["sleep 5.000", "sleep 10.000", "sleep 20.000", "sleep 40.000", "sleep 60.000"]);
    expect(r.log).toContain("apt-get update failed 6 times (last exit 100); giving up");
    expect(r.actions.some((a) => /install -y -q gitlab-ce/.test(a))).toBe(false);
  });

  it("retries a secret its new role may not read yet (IAM still propagating), then goes on", async ({ host }) => {
    host.recorder.failFirst("GetSecretValue", 2, {
      code: "AccessDeniedException",
      message: "User is not authorized to perform: secretsmanager:GetSecretValue",
    });
    const r = await host.run({ env: FAST_RETRIES });
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(r.requests).toEqual([secretRequest(SMTP_ARN), secretRequest(SMTP_ARN), secretRequest(SMTP_ARN), secretRequest(TLS_ARN)]);
    expect(r.log).toContain("fetching secret 'smtp_password' failed (exit 254, attempt 2 of 6)");
    expect(readFileSync(host.at("/etc/gitlab/secrets.d/smtp_password"), "utf8")).toBe("smtp-secret\n");
    expect(existsSync(host.at("/etc/gitlab/secrets.d/smtp_password.tmp"))).toBe(false);
  });

  it("stops when a secret stays unreadable: nothing installed, the failure recorded", async ({ host }) => {
    host.recorder.failFirst("GetSecretValue", 99, { code: "AccessDeniedException", message: "not authorized" });
    const r = await host.run({ env: INSTANT_RETRIES });
    expect(r.status).not.toBe(0);
    expect(r.failed).toBe("fetch secrets");
    expect(r.requests.map((q) => q.action)).toEqual([...Array(6).fill("GetSecretValue"), "PutMetricData"]);
    expect(r.actions.some((a) => a.startsWith("apt-get"))).toBe(false);
    expect(r.done).toBe(false);
  });
});

describe.concurrent("GitLab bootstrap, data volume safety", () => {
  it.skipIf(!runAwsCliTests)("formats a volume only when blkid finds no signature at all (exit 2)", async ({ host }) => {
    const r = await host.run({ probe: 2, secrets: false });
    expect(r.status).toBe(0);
    expect(r.actions.filter((a) => a.startsWith("mkfs"))).toEqual([`mkfs.ext4 -q -L gitlab-data ${DEVICE}`]);
    expect(r.log).toContain("data volume is blank: creating ext4 filesystem");
  });

  it.skipIf(!runAwsCliTests)("never formats a volume that has a filesystem (exit 0)", async ({ host }) => {
    const r = await host.run({ probe: 0, secrets: false });
    expect(r.status).toBe(0);
    expect(r.actions.some((a) => a.startsWith("mkfs"))).toBe(false);
    expect(r.actions).toContain("mount /var/opt/gitlab");
    expect(r.log).toContain("data volume already has a filesystem: keeping it");
  });

  it.for([1, 4, 8])("refuses to touch the volume when blkid exits %i, and installs nothing", async (probe, { host }) => {
    const r = await host.run({ probe });
    expect(r.status).not.toBe(0);
    expect(r.failed).toBe("format data volume (only if blank)");
    expect(r.log).toContain(`blkid failed on ${DEVICE} (exit ${probe}); refusing to touch it`);
    expect(r.actions).toEqual(["systemctl try-reload-or-restart ssh.service", `blkid -p ${DEVICE}`]);
    expect(r.done).toBe(false);
  });
});

const isRoot = process.getuid?.() === 0;

describe.skipIf(!runAwsCliTests || !isRoot).concurrent("GitLab bootstrap on a reused data volume: who owns the files (chown needs root)", () => {
  const pinned = (name: string) => OMNIBUS_ACCOUNTS.find((a) => a.name === name)!.id;
  /** GitLab's data as an earlier instance left it, owned by git and gitlab-psql with these ids. */
  function reusedVolume(host: Host, git: number, psql: number): void {
    for (const [path, uid, gid] of [
      ["/var/opt/gitlab/git-data/repositories", git, git],
      ["/var/opt/gitlab/gitlab-rails", git, 0],
      ["/var/opt/gitlab/postgresql/data", psql, psql],
      ["/var/opt/gitlab/postgresql", psql, psql],
    ] as const) {
      mkdirSync(host.at(path), { recursive: true });
      chownSync(host.at(path), uid, gid);
    }
  }

  it("refuses to start GitLab when the volume's files belong to other ids: a clear log line, the failure recorded", async ({ host }) => {
    reusedVolume(host, 998, 996);
    const r = await host.run({ probe: 0, secrets: false });
    expect(r.status).not.toBe(0);
    expect(r.failed).toBe("check who owns GitLab's data on the volume");
    expect(r.log).toContain(`/var/opt/gitlab/git-data/repositories: uid is 998, but git:git's uid is pinned to ${pinned("git")}`);
    expect(r.log).toContain(`/var/opt/gitlab/postgresql/data: uid is 996, but gitlab-psql's uid is pinned to ${pinned("gitlab-psql")}`);
    expect(r.log).toContain("refusing to start GitLab");
    expect(r.log).toContain("FAILED at step 'check who owns GitLab's data on the volume'");
    // Nothing that would create accounts or touch the data ran; the failure was reported.
    expect(r.actions.some((a) => /install -y -q gitlab-ce|^gitlab-ctl|^gitlab-keep-identity/.test(a))).toBe(false);
    expect(r.requests.map((q) => q.action)).toEqual(["PutMetricData"]);
    expect(r.done).toBe(false);
  });

  it("starts GitLab on a volume written by the pinned accounts, and on a blank one", async ({ host }) => {
    reusedVolume(host, pinned("git"), pinned("gitlab-psql"));
    const reused = await host.run({ probe: 0, secrets: false });
    expect(reused.output).not.toContain("FAILED");
    expect(reused.status).toBe(0);
    expect(reused.log).toContain("the data volume's owners match the pinned accounts");
    rmSync(host.at("/var/opt/gitlab"), { recursive: true, force: true });
    rmSync(host.at("/var/lib/gitlab-platform"), { recursive: true, force: true });
    const blank = await host.run({ probe: 2, secrets: false });
    expect(blank.status).toBe(0);
    expect(blank.done).toBe(true);
  });
});

describe.concurrent("GitLab bootstrap failure", () => {
  it("stops when the data volume never appears: no format, no mount, no GitLab on the root disk", async ({ host }) => {
    const r = await host.run({ volume: "never" });
    expect(r.status).not.toBe(0);
    expect(r.failed).toBe("wait for data volume");
    expect(r.log).toContain(`data volume ${VOLUME} never appeared`);
    expect(r.log).toContain("FAILED at step 'wait for data volume'");
    expect(r.output).toContain("FAILED at step 'wait for data volume'");
    expect(r.actions.filter((a) => a.startsWith("sleep"))).toHaveLength(60);
    expect(r.actions.filter((a) => !a.startsWith("sleep"))).toEqual(["systemctl try-reload-or-restart ssh.service"]);
    expect(existsSync(host.at("/etc/gitlab/skip-auto-reconfigure"))).toBe(false);
    expect(r.done).toBe(false);
  });

  it.skipIf(!runAwsCliTests)("stops at the package repository when apt-get update keeps failing: no install, no reconfigure", async ({ host }) => {
    const r = await host.run({ aptUpdateFailures: 99, env: INSTANT_RETRIES, secrets: false });
    expect(r.status).toBe(100);
    expect(r.failed).toBe("add GitLab package repository");
    expect(r.log).toContain("FAILED at step 'add GitLab package repository' (exit 100)");
    expect(r.actions.at(-1)).toBe(`apt-get ${LOCK} update -q`);
    expect(r.actions.some((a) => /^(apt-get \S+ \S+ install|apt-mark|gitlab-ctl|gitlab-keep-identity save|gitlab-apply-settings)/.test(a))).toBe(false);
    // It stays up for the operator to look at: unlike a runner's, the shared ERR trap powers nothing off here.
    expect(r.actions.filter((a) => a.startsWith("shutdown"))).toEqual([]);
    expect(r.done).toBe(false);
  });

  it.skipIf(!runAwsCliTests)("reports a failure to CloudWatch for the server-bootstrap-failed alarm, and keeps the step's exit status", async ({ host }) => {
    const r = await host.run({ aptUpdateFailures: 99, env: INSTANT_RETRIES });
    expect(r.status).toBe(100);
    expect(r.requests.filter((q) => q.action !== "GetSecretValue").map((q) => [q.service, q.region, q.params])).toEqual([
      [
        "monitoring",
        "eu-west-3",
        {
          Action: "PutMetricData",
          Version: "2010-08-01",
          Namespace: BOOTSTRAP_FAILED_METRIC.namespace,
          "MetricData.member.1.MetricName": BOOTSTRAP_FAILED_METRIC.name,
          "MetricData.member.1.Value": "1",
          "MetricData.member.1.Unit": "Count",
          "MetricData.member.1.Dimensions.member.1.Name": "Host",
          "MetricData.member.1.Dimensions.member.1.Value": "staging-gitlab-server",
        },
      ],
    ]);
    host.recorder.fault = (q) => (q.action === "PutMetricData" ? { code: "AccessDenied", message: "not authorized", status: 403 } : undefined);
    rmSync(host.at("/var/lib/gitlab-platform"), { recursive: true, force: true });
    const refused = await host.run({ aptUpdateFailures: 99, env: INSTANT_RETRIES });
    expect(refused.status).toBe(100);
    expect(refused.log).toContain("could not report the failure to CloudWatch");
  });

  it("fails, and records it, when bootstrap.env lacks a setting", async ({ host }) => {
    host.put("/etc/gitlab-platform/bootstrap.env", "GITLAB_VERSION=18.5.1-ce.0\n", 0o600);
    mkdirSync(host.at("/var/log"), { recursive: true });
    const { status } = await runScript(SCRIPT, [], { PATH: `${host.bin}:${process.env.PATH}`, ACTIONS: join(host.root, "a.log"), BOOTSTRAP_ROOT: host.root });
    expect(status).not.toBe(0);
    expect(readFileSync(host.at("/var/lib/gitlab-platform/bootstrap.failed"), "utf8").trim()).toBe("read /etc/gitlab-platform/bootstrap.env");
    expect(readFileSync(host.at("/var/log/gitlab-bootstrap.log"), "utf8")).toContain("DATA_VOLUME_ID is missing in");
  });

  it.skipIf(!runAwsCliTests)("installs a downloaded CloudWatch agent only when its signature is by the key AWS publishes", async ({ host }) => {
    const good = await host.run({ agent: { key: "aws", signature: "good" }, secrets: false });
    expect(good.output).not.toContain("FAILED");
    expect(good.status).toBe(0);
    const agentSteps = good.actions
      .filter((a) => /amazoncloudwatch-agent|^gpg --homedir|agent\.deb$|^amazon-cloudwatch-agent-ctl/.test(a))
      .map((a) => (a.startsWith("apt-get") ? a.replace(/ \S+agent\.deb$/, " <agent.deb>") : a.split(" ").slice(0, 2).join(" ")));
    expect(agentSteps).toEqual([
      "curl -fsSL", // the package
      "curl -fsSL", // its signature
      "curl -fsSL", // the key
      "gpg --homedir",
      "gpg --homedir",
      "gpg --homedir",
      `apt-get ${LOCK} install -y -q <agent.deb>`,
      "amazon-cloudwatch-agent-ctl -a",
    ]);
    expect(good.actions).toContainEqual(expect.stringMatching(/^gpg --homedir \S+ --batch --verify \S+agent\.deb\.sig \S+agent\.deb$/));
    expect(good.actions).toContainEqual(
      expect.stringMatching(
        / https:\/\/amazoncloudwatch-agent-eu-west-3\.s3\.eu-west-3\.amazonaws\.com\/ubuntu\/amd64\/latest\/amazon-cloudwatch-agent\.deb\.sig$/,
      ),
    );
    // Downloaded under TMPDIR, and that directory went once the package was installed.
    expect(good.actions).toContainEqual(expect.stringMatching(new RegExp(`^apt-get .* ${host.at("/tmp")}/tmp\\.\\w+/agent\\.deb$`)));
    expect(good.leftInTmp).toEqual([]);

    for (const [agent, reason] of [
      [{ key: "other", signature: "good" }, "signing key is not the one AWS publishes"],
      [{ key: "aws", signature: "bad" }, "BAD signature"],
      ["fails", "downloading the CloudWatch agent failed 6 times"],
    ] as const) {
      // A fresh host again: no agent from the run before, no markers.
      for (const dir of ["/var/lib/gitlab-platform", "/opt/aws"]) rmSync(host.at(dir), { recursive: true, force: true });
      const r = await host.run({ agent, secrets: false, env: INSTANT_RETRIES });
      expect(r.status).not.toBe(0);
      expect(r.failed).toBe("start the CloudWatch agent");
      expect(r.output).toContain(reason);
      expect(r.actions.some((a) => a.startsWith("apt-get") && a.endsWith("agent.deb"))).toBe(false);
      expect(r.actions.some((a) => /install -y -q gitlab-ce/.test(a))).toBe(false);
      // Nor left on the host: the download directory, the refused package in it, is gone.
      expect(r.leftInTmp).toEqual([]);
    }
  });

  it.skipIf(!runAwsCliTests)("clears an earlier failure marker when it is run again and succeeds", async ({ host }) => {
    host.put("/var/lib/gitlab-platform/bootstrap.failed", "wait for data volume\n");
    const r = await host.run({ secrets: false });
    expect(r.status).toBe(0);
    expect(r.failed).toBeUndefined();
    expect(r.done).toBe(true);
  });
});
