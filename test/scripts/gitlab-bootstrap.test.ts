// Runs the real GitLab server bootstrap, as shipped in the user data, against a scratch tree
// (BOOTSTRAP_ROOT) with fake system commands first on PATH: every step in order, files created
// with the right modes (secrets root-only, apt's keyring readable by apt's _apt user), and a
// failed step that stops everything after it and says where.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { shippedScript } from "../helpers";

const SCRIPT = shippedScript("gitlab-bootstrap.sh");

const VERSION = "18.5.1-ce.0";
const VOLUME = "vol-0123456789abcdef0";
const DEVICE = "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0";
const UUID = "0b5e1c9a-3f1d-4e57-9a0e-8c2d6f4b7a11";
const SMTP_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:smtp-AbCdEf";
const TLS_ARN = "arn:aws:secretsmanager:eu-west-3:111111111111:secret:tls-AbCdEf";

let root: string;
let bin: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "gitlab-bootstrap-"));
  bin = mkdtempSync(join(tmpdir(), "gitlab-bootstrap-bin-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(bin, { recursive: true, force: true });
});

/** A file in the scratch tree, by its host path. */
const at = (hostPath: string) => join(root, hostPath);

function put(hostPath: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(at(hostPath)), { recursive: true });
  writeFileSync(at(hostPath), content);
  chmodSync(at(hostPath), mode);
}

/** An executable that records its name and arguments in $ACTIONS, then runs `body`. */
function fakeAt(path: string, name: string, body: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\nprintf '${name} %s\\n' "$*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(path, 0o755);
}
const fake = (name: string, body = "exit 0") => fakeAt(join(bin, name), name, body);

interface Options {
  /** blkid -p's exit status: 2 = no signature (blank), 0 = has a filesystem. @default 2 */
  readonly probe?: number;
  /** Whether the data volume's device ever appears. @default "nvme" */
  readonly volume?: "nvme" | "xvdf" | "never";
  /** Make `apt-get update` fail. @default false */
  readonly aptFails?: boolean;
  /** The CloudWatch agent: already on the image, or downloaded with a key and signature. @default "installed" */
  readonly agent?: "installed" | { readonly key: "aws" | "other"; readonly signature: "good" | "bad" };
}

/** The fingerprint AWS publishes for the CloudWatch agent's signing key. */
const AGENT_KEY = "937616F3450B7D806CBD9725D58167303B789C72";
const CWAGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";

function run(options: Options = {}) {
  const actions = join(root, "actions.log");
  const umasks = join(root, "umask.log");
  writeFileSync(actions, "");
  writeFileSync(umasks, "");

  // The host as cloud-init leaves it: the user data's files, an fstab, Ubuntu's apt dirs.
  put("/etc/gitlab-platform/bootstrap.env", `GITLAB_VERSION=${VERSION}\nAWS_REGION=eu-west-3\nDATA_VOLUME_ID=${VOLUME}\nENABLE_UNITS="gitlab-backup.timer x.service"\n`, 0o600);
  put("/etc/gitlab-platform/secrets.list", `smtp_password ${SMTP_ARN}\ntls_private_key ${TLS_ARN}\n`, 0o600);
  put("/etc/gitlab-platform/cloudwatch-agent.json", "{}\n", 0o644);
  put("/etc/gitlab/gitlab.rb", "external_url 'https://gitlab.example.com'\n", 0o600);
  put("/etc/fstab", "LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\n");
  put("/etc/os-release", 'NAME="Ubuntu"\nVERSION_CODENAME=noble\n');
  for (const dir of ["/etc/apt/sources.list.d", "/var/log"]) mkdirSync(at(dir), { recursive: true });
  if (options.volume !== "never") put(options.volume === "xvdf" ? "/dev/xvdf" : DEVICE, "");

  // Programs the bootstrap runs by absolute path, installed in the scratch tree.
  fakeAt(at("/usr/local/sbin/gitlab-keep-identity"), "gitlab-keep-identity", "exit 0");
  fakeAt(at("/usr/local/sbin/gitlab-apply-settings"), "gitlab-apply-settings", "exit 0");
  const agent = options.agent ?? "installed";
  if (agent === "installed") fakeAt(at(CWAGENT_CTL), "amazon-cloudwatch-agent-ctl", "exit 0");

  // Commands found on PATH.
  fake("sleep"); // the volume wait: 60 x 5 s on a host, instant here
  fake("rsyslogd");
  fake("systemctl");
  fake("blkid", `case "$1" in -p) exit ${options.probe ?? 2} ;; -s) echo ${UUID} ;; *) exit 9 ;; esac`);
  fake("mkfs.ext4");
  fake("mount", `touch "${join(root, "mounted")}"`);
  fake("mountpoint", `[ -e "${join(root, "mounted")}" ]`);
  fake("aws", `case "$*" in *get-secret-value*" --secret-id ${SMTP_ARN} "*) echo smtp-secret ;; *get-secret-value*) echo tls-secret ;; *) exit 1 ;; esac`);
  fake(
    "curl",
    `out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
case "$*" in
  *packages.gitlab.com/gitlab/gitlab-ce/gpgkey) echo "-----BEGIN PGP PUBLIC KEY BLOCK-----" ;;
  *amazoncloudwatch-agent*) echo "agent download" > "$out" ;;
  *) exit 22 ;;
esac`,
  );
  const agentKey = agent !== "installed" && agent.key === "other" ? "0123456789ABCDEF0123456789ABCDEF01234567" : AGENT_KEY;
  const agentSignature = agent !== "installed" && agent.signature === "bad" ? 'echo "gpg: BAD signature" >&2; exit 1' : "exit 0";
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
  fake(
    "apt-get",
    `echo "apt-get $(umask)" >> "${umasks}"
case "$1" in
  update) ${options.aptFails ? 'echo "E: The repository is not signed." >&2; exit 100' : "exit 0"} ;;
  install) [ -e "$BOOTSTRAP_ROOT/etc/gitlab/skip-auto-reconfigure" ] || { echo "installed before skip-auto-reconfigure" >&2; exit 1; } ;;
esac`,
  );
  fake("apt-mark");
  fake("gitlab-ctl", `echo "gitlab-ctl $(umask)" >> "${umasks}"`);
  fake("snap", "exit 1");
  // Installing the agent's package puts its control program in place.
  fake(
    "dpkg",
    agent === "installed"
      ? "exit 1"
      : `mkdir -p "$BOOTSTRAP_ROOT${dirname(CWAGENT_CTL)}" && printf '#!/bin/sh\\nprintf "amazon-cloudwatch-agent-ctl %%s\\\\n" "$*" >> "$ACTIONS"\\n' > "$BOOTSTRAP_ROOT${CWAGENT_CTL}" && chmod +x "$BOOTSTRAP_ROOT${CWAGENT_CTL}"`,
  );

  const r = spawnSync("bash", [SCRIPT], {
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env.PATH}`, ACTIONS: actions, BOOTSTRAP_ROOT: root },
  });
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8") : "");
  return {
    status: r.status,
    output: `${r.stdout}${r.stderr}`,
    log: read(at("/var/log/gitlab-bootstrap.log")),
    actions: read(actions).trim().split("\n").map((a) => a.trimEnd()).filter(Boolean),
    umasks: read(umasks).trim().split("\n").filter(Boolean),
    failed: existsSync(at("/var/lib/gitlab-platform/bootstrap.failed")) ? read(at("/var/lib/gitlab-platform/bootstrap.failed")).trim() : undefined,
    done: existsSync(at("/var/lib/gitlab-platform/bootstrap.done")),
  };
}

const mode = (hostPath: string) => statSync(at(hostPath)).mode & 0o777;

describe("GitLab bootstrap, start to finish", () => {
  it("locks sshd to git, mounts the volume, installs and configures GitLab, then enables the host units, in that order", () => {
    const r = run();
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
      `aws secretsmanager get-secret-value --region eu-west-3 --secret-id ${SMTP_ARN} --query SecretString --output text`,
      `aws secretsmanager get-secret-value --region eu-west-3 --secret-id ${TLS_ARN} --query SecretString --output text`,
      "gitlab-keep-identity restore",
      "systemctl try-restart ssh.service",
      "curl -fsSL --retry 5 https://packages.gitlab.com/gitlab/gitlab-ce/gpgkey",
      "apt-get update -q",
      `apt-get install -y -q gitlab-ce=${VERSION}`,
      "apt-mark hold gitlab-ce",
      "gitlab-ctl reconfigure",
      "gitlab-keep-identity save",
      "gitlab-apply-settings",
      "systemctl daemon-reload",
      "systemctl enable --now gitlab-backup.timer x.service",
    ]);
    const gpg = r.actions.indexOf(`gpg --dearmor --yes -o ${at("/etc/apt/keyrings/gitlab-ce.gpg")}`);
    expect(gpg).toBeGreaterThan(r.actions.indexOf("systemctl try-restart ssh.service"));
    expect(gpg).toBeLessThan(r.actions.indexOf("apt-get update -q"));
    expect(readFileSync(at("/etc/fstab"), "utf8")).toBe(
      `LABEL=cloudimg-rootfs / ext4 discard,errors=remount-ro 0 1\nUUID=${UUID} /var/opt/gitlab ext4 defaults,nofail,x-systemd.device-timeout=120 0 2\n`,
    );
    expect(readFileSync(at("/etc/apt/sources.list.d/gitlab-ce.list"), "utf8")).toBe(
      "deb [signed-by=/etc/apt/keyrings/gitlab-ce.gpg] https://packages.gitlab.com/gitlab/gitlab-ce/ubuntu/ noble main\n",
    );
  });

  it("creates only the secret files root-only: apt's keyring and source, apt and reconfigure get the usual umask", () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(mode("/etc/gitlab/secrets.d")).toBe(0o700);
    expect(readFileSync(at("/etc/gitlab/secrets.d/smtp_password"), "utf8")).toBe("smtp-secret\n");
    expect(readFileSync(at("/etc/gitlab/secrets.d/tls_private_key"), "utf8")).toBe("tls-secret\n");
    expect(mode("/etc/gitlab/secrets.d/smtp_password")).toBe(0o600);
    expect(mode("/etc/gitlab/secrets.d/tls_private_key")).toBe(0o600);
    // apt verifies signatures as the unprivileged _apt user: a root-only keyring is "not signed".
    expect(mode("/etc/apt/keyrings")).toBe(0o755);
    expect(mode("/etc/apt/keyrings/gitlab-ce.gpg")).toBe(0o644);
    expect(mode("/etc/apt/sources.list.d/gitlab-ce.list")).toBe(0o644);
    expect(r.umasks).toEqual(["apt-get 0022", "apt-get 0022", "gitlab-ctl 0022"]);
    // The secrets reach their files and nothing else.
    expect(r.log).not.toMatch(/smtp-secret|tls-secret/);
  });

  it("finds a volume attached as /dev/xvdf and keeps an existing filesystem and fstab entry", () => {
    put("/etc/fstab", `UUID=${UUID} /var/opt/gitlab ext4 defaults,nofail,x-systemd.device-timeout=120 0 2\n`);
    const r = run({ volume: "xvdf", probe: 0 });
    expect(r.status).toBe(0);
    expect(r.actions).toContain("blkid -p /dev/xvdf");
    expect(r.actions.some((a) => a.startsWith("mkfs"))).toBe(false);
    expect(readFileSync(at("/etc/fstab"), "utf8").match(/UUID=/g)).toHaveLength(1);
  });
});

describe("GitLab bootstrap, data volume safety", () => {
  it("formats a volume only when blkid finds no signature at all (exit 2)", () => {
    const r = run({ probe: 2 });
    expect(r.status).toBe(0);
    expect(r.actions.filter((a) => a.startsWith("mkfs"))).toEqual([`mkfs.ext4 -q -L gitlab-data ${DEVICE}`]);
    expect(r.log).toContain("data volume is blank: creating ext4 filesystem");
  });

  it("never formats a volume that has a filesystem (exit 0)", () => {
    const r = run({ probe: 0 });
    expect(r.status).toBe(0);
    expect(r.actions.some((a) => a.startsWith("mkfs"))).toBe(false);
    expect(r.actions).toContain("mount /var/opt/gitlab");
    expect(r.log).toContain("data volume already has a filesystem: keeping it");
  });

  it.each([1, 4, 8])("refuses to touch the volume when blkid exits %i, and installs nothing", (probe) => {
    const r = run({ probe });
    expect(r.status).not.toBe(0);
    expect(r.failed).toBe("format data volume (only if blank)");
    expect(r.log).toContain(`blkid failed on ${DEVICE} (exit ${probe}); refusing to touch it`);
    expect(r.actions).toEqual(["systemctl try-reload-or-restart ssh.service", `blkid -p ${DEVICE}`]);
    expect(r.done).toBe(false);
  });
});

describe("GitLab bootstrap failure", () => {
  it("stops when the data volume never appears: no format, no mount, no GitLab on the root disk", () => {
    const r = run({ volume: "never" });
    expect(r.status).not.toBe(0);
    expect(r.failed).toBe("wait for data volume");
    expect(r.log).toContain(`data volume ${VOLUME} never appeared`);
    expect(r.log).toContain("FAILED at step 'wait for data volume'");
    expect(r.output).toContain("FAILED at step 'wait for data volume'");
    expect(r.actions.filter((a) => a.startsWith("sleep"))).toHaveLength(60);
    expect(r.actions.filter((a) => !a.startsWith("sleep"))).toEqual(["systemctl try-reload-or-restart ssh.service"]);
    expect(existsSync(at("/etc/gitlab/skip-auto-reconfigure"))).toBe(false);
    expect(r.done).toBe(false);
  });

  it("stops at the package repository when apt-get update fails: no install, no reconfigure", () => {
    const r = run({ aptFails: true });
    expect(r.status).toBe(100);
    expect(r.failed).toBe("add GitLab package repository");
    expect(r.log).toContain("FAILED at step 'add GitLab package repository' (exit 100)");
    expect(r.actions.at(-1)).toBe("apt-get update -q");
    expect(r.actions.some((a) => /^(apt-get install|apt-mark|gitlab-ctl|gitlab-keep-identity save|gitlab-apply-settings)/.test(a))).toBe(false);
    expect(r.done).toBe(false);
  });

  it("installs a downloaded CloudWatch agent only when its signature is by the key AWS publishes", () => {
    const good = run({ agent: { key: "aws", signature: "good" } });
    expect(good.output).not.toContain("FAILED");
    expect(good.status).toBe(0);
    const agentSteps = good.actions.filter((a) => /amazoncloudwatch-agent|^gpg --homedir|^dpkg|^amazon-cloudwatch-agent-ctl/.test(a)).map((a) => a.split(" ").slice(0, 2).join(" "));
    expect(agentSteps).toEqual([
      "curl -fsSL", // the package
      "curl -fsSL", // its signature
      "curl -fsSL", // the key
      "gpg --homedir",
      "gpg --homedir",
      "gpg --homedir",
      "dpkg -i",
      "amazon-cloudwatch-agent-ctl -a",
    ]);
    expect(good.actions).toContainEqual(expect.stringMatching(/^gpg --homedir \S+ --batch --verify \S+agent\.deb\.sig \S+agent\.deb$/));
    expect(good.actions).toContainEqual(expect.stringMatching(/ https:\/\/amazoncloudwatch-agent-eu-west-3\.s3\.eu-west-3\.amazonaws\.com\/ubuntu\/amd64\/latest\/amazon-cloudwatch-agent\.deb\.sig$/));

    for (const [agent, reason] of [
      [{ key: "other", signature: "good" }, "signing key is not the one AWS publishes"],
      [{ key: "aws", signature: "bad" }, "BAD signature"],
    ] as const) {
      // A fresh host again: no agent from the run before, no markers.
      for (const dir of ["/var/lib/gitlab-platform", "/opt/aws"]) rmSync(at(dir), { recursive: true, force: true });
      const r = run({ agent });
      expect(r.status).not.toBe(0);
      expect(r.failed).toBe("start the CloudWatch agent");
      expect(r.output).toContain(reason);
      expect(r.actions.some((a) => a.startsWith("dpkg"))).toBe(false);
      expect(r.actions.some((a) => a.startsWith("apt-get install"))).toBe(false);
    }
  });

  it("clears an earlier failure marker when it is run again and succeeds", () => {
    put("/var/lib/gitlab-platform/bootstrap.failed", "wait for data volume\n");
    const r = run();
    expect(r.status).toBe(0);
    expect(r.failed).toBeUndefined();
    expect(r.done).toBe(true);
  });
});
