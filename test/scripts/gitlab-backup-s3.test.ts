// Runs the real nightly AWS backup script with bash, with a fake `gitlab-backup` first on PATH
// and a fake `aws` passed through AWS_CLI (the script's seam for it; the unit finds it on PATH). The
// fake aws records its argv and "uploads" by copying into a directory standing in for S3. The
// script archives /etc/gitlab by that path; a pass-through `tar` on PATH points that one path
// at a temporary stand-in and runs the real tar. TMPDIR points at an empty directory so the
// script's work directory can be watched. Needs bash, tar, gzip, stat and coreutils.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BACKUP_METRIC } from "../../constructs/backups/aws";
import { shippedScript } from "../helpers";
import { filesUnder } from "../support/files";

// Run as shipped in the user data (comments stripped).
const SCRIPT = shippedScript("gitlab-backup-s3.sh");
const BUCKET = "staging-gitlab-backups";
const REGION = "eu-central-1";
const ENV_NAME = "staging";
const REAL_TAR = execFileSync("sh", ["-c", "command -v tar"], { encoding: "utf8" }).trim();
const CONFIG_KEY = /^config\/gitlab-config-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.tar\.gz$/;

// Stands in for Omnibus' `gitlab-backup`: records its argv, fails when told to.
const FAKE_GITLAB_BACKUP = `#!/bin/sh
printf 'gitlab-backup %s\\n' "$*" >> "$ACTIONS_LOG"
if [ "\${FAKE_FAIL:-}" = gitlab-backup ]; then echo "fake gitlab-backup: pg_dump failed" >&2; exit 1; fi
`;

// Stands in for the AWS CLI: records its argv; \`s3 cp SRC s3://B/KEY\` copies SRC to $S3_DIR/B/KEY
// and notes SRC's path and mode (the work file is gone after the run); either call can fail.
const FAKE_AWS = `#!/bin/sh
printf 'aws %s\\n' "$*" >> "$ACTIONS_LOG"
case "$1 $2" in
  "s3 cp")
    if [ "\${FAKE_FAIL:-}" = s3 ]; then echo "upload failed: Access Denied" >&2; exit 1; fi
    src="" dst=""
    for a in "$@"; do src=$dst; dst=$a; done
    key=\${dst#s3://}
    mkdir -p "$S3_DIR/$(dirname "$key")"
    cp "$src" "$S3_DIR/$key"
    printf '%s %s\\n' "$src" "$(stat -c %a "$src")" >> "$UPLOADS_LOG"
    ;;
  "cloudwatch put-metric-data")
    if [ "\${FAKE_FAIL:-}" = cloudwatch ]; then echo "An error occurred (Throttling)" >&2; exit 255; fi
    ;;
  *) echo "fake aws: unexpected call" >&2; exit 2 ;;
esac
`;

// The real tar, with /etc/gitlab (and paths under it) in its arguments moved to $FAKE_GITLAB_ETC.
const PASS_THROUGH_TAR = `#!/bin/sh
for a in "$@"; do
  shift
  case "$a" in /etc/gitlab | /etc/gitlab/*) a="$FAKE_GITLAB_ETC\${a#/etc/gitlab}" ;; esac
  set -- "$@" "$a"
done
exec ${REAL_TAR} "$@"
`;

// An \`aws\` on PATH that must never run: the script is to use $AWS_CLI.
const PATH_AWS = `#!/bin/sh
printf 'PATH-aws %s\\n' "$*" >> "$ACTIONS_LOG"
exit 127
`;

interface Layout {
  root: string;
  etc: string;
  ssh: string;
  s3: string;
  tmp: string;
  bin: string;
  aws: string;
  actions: string;
  uploads: string;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The fake commands' calls, in order. */
  actions: string[];
  /** What the fake `aws s3 cp` was given: local path and its octal mode at upload time. */
  uploads: { path: string; mode: string }[];
  startedAt: number;
  finishedAt: number;
}

let layout: Layout;

function makeLayout(): Layout {
  const root = mkdtempSync(join(tmpdir(), "gitlab-backup-s3-test-"));
  const l: Layout = {
    root,
    etc: join(root, "etc-gitlab"),
    ssh: join(root, "etc-ssh"),
    s3: join(root, "s3"),
    tmp: join(root, "tmp"),
    bin: join(root, "bin"),
    aws: join(root, "aws-cli", "aws"),
    actions: join(root, "actions.log"),
    uploads: join(root, "uploads.log"),
  };
  for (const dir of [l.etc, l.ssh, l.s3, l.tmp, l.bin, join(root, "aws-cli"), join(l.etc, "secrets.d")]) mkdirSync(dir);
  writeFileSync(join(l.ssh, "ssh_host_ed25519_key"), "private host key\n", { mode: 0o600 });
  writeFileSync(join(l.ssh, "ssh_host_ed25519_key.pub"), "ssh-ed25519 public host key\n");
  writeFileSync(join(l.ssh, "sshd_config"), "# not part of the archive\n");
  writeFileSync(join(l.etc, "gitlab.rb"), "external_url 'https://gitlab.example.com'\n", { mode: 0o600 });
  writeFileSync(join(l.etc, "gitlab-secrets.json"), '{"gitlab_rails":{"secret_key_base":"test"}}\n', { mode: 0o600 });
  // Also in /etc/gitlab on the host, but not part of the config archive.
  writeFileSync(join(l.etc, "application-settings.rb"), "# applied at boot\n");
  writeFileSync(join(l.etc, "secrets.d", "db_password"), "hunter2\n", { mode: 0o600 });
  for (const [path, text] of [
    [join(l.bin, "gitlab-backup"), FAKE_GITLAB_BACKUP],
    [join(l.bin, "aws"), PATH_AWS],
    [join(l.bin, "tar"), PASS_THROUGH_TAR],
    [l.aws, FAKE_AWS],
  ] as const) {
    writeFileSync(path, text);
    chmodSync(path, 0o755);
  }
  return l;
}

/** Runs the script; an env value of `undefined` unsets that variable. */
function run(env: Record<string, string | undefined> = {}): Run {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of ["BACKUP_BUCKET", "AWS_REGION", "ENVIRONMENT", "ARCHIVE_PREFIX", "AWS_CLI", "SSH_ETC", "METRIC_NAMESPACE", "FAKE_FAIL", "TZ"]) {
    delete base[k];
  }
  const merged: Record<string, string | undefined> = {
    ...base,
    PATH: `${layout.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    TMPDIR: layout.tmp,
    ACTIONS_LOG: layout.actions,
    UPLOADS_LOG: layout.uploads,
    S3_DIR: layout.s3,
    FAKE_GITLAB_ETC: layout.etc,
    AWS_CLI: layout.aws,
    BACKUP_BUCKET: BUCKET,
    AWS_REGION: REGION,
    ENVIRONMENT: ENV_NAME,
    ARCHIVE_PREFIX: "gitlab",
    SSH_ETC: layout.ssh,
    ...env,
  };
  const finalEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) finalEnv[k] = v;
  const startedAt = Math.floor(Date.now() / 1000);
  const result = spawnSync("bash", [SCRIPT], { encoding: "utf8", env: finalEnv });
  const finishedAt = Math.ceil(Date.now() / 1000);
  const lines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : []);
  const actions = lines(layout.actions);
  const uploads = lines(layout.uploads).map((l) => {
    const [path = "", mode = ""] = l.split(" ");
    return { path, mode };
  });
  rmSync(layout.actions, { force: true });
  rmSync(layout.uploads, { force: true });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, actions, uploads, startedAt, finishedAt };
}

/** Objects "uploaded" to the backup bucket, as keys. */
const objects = () => filesUnder(join(layout.s3, BUCKET));

/** Everything the script printed, stdout and stderr (both end up in the journal). */
const output = (r: Run) => `${r.stdout}\n${r.stderr}`;

/** An argv as the fakes logged it, split on spaces (no argument here contains one). */
const argv = (action: string) => action.split(" ");

/** The value following `flag` in an argv. */
function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

beforeEach(() => {
  layout = makeLayout();
});

afterEach(() => {
  rmSync(layout.root, { recursive: true, force: true });
});

describe("gitlab-backup-s3.sh: a successful run", () => {
  it("runs gitlab-backup create, then uploads the config tarball, then reports success, in that order", () => {
    const r = run();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const [key] = objects();
    expect(key).toMatch(CONFIG_KEY);
    expect(r.actions).toEqual([
      // Nothing skipped; CRON=1 keeps the output to errors only; DIRECTORY= is the bucket folder.
      "gitlab-backup create CRON=1 DIRECTORY=gitlab",
      `aws s3 cp --only-show-errors --region ${REGION} --sse AES256 ${r.uploads[0]?.path} s3://${BUCKET}/${key}`,
      `aws cloudwatch put-metric-data --region ${REGION} --namespace ${BACKUP_METRIC.namespace} --metric-name ${BACKUP_METRIC.name} --value 1 --unit Count --dimensions Environment=${ENV_NAME}`,
    ]);
    expect(r.stdout).toContain(`gitlab-backup-s3: backup complete: archive and config uploaded to s3://${BUCKET}`);
  });

  it("uploads one tarball to s3://$BACKUP_BUCKET/config/, encrypted (--sse AES256), in AWS_REGION", () => {
    const r = run({ BACKUP_BUCKET: "other-bucket", AWS_REGION: "us-west-2" });
    expect(r.status).toBe(0);
    const cp = r.actions.filter((a) => a.startsWith("aws s3 cp")).map(argv);
    expect(cp).toHaveLength(1);
    const args = cp[0]!;
    expect(flag(args, "--sse")).toBe("AES256");
    expect(flag(args, "--region")).toBe("us-west-2");
    expect(args.at(-1)).toMatch(/^s3:\/\/other-bucket\/config\/gitlab-config-\d{8}T\d{6}Z\.tar\.gz$/);
    expect(filesUnder(layout.s3).map((f) => f.split("/")[0])).toEqual(["other-bucket"]);
  });

  it("names the tarball after the current time in UTC, whatever the host's time zone", () => {
    // UTC+14: a local-time stamp would be 14 hours off.
    const r = run({ TZ: "Pacific/Kiritimati" });
    expect(r.status).toBe(0);
    const m = CONFIG_KEY.exec(objects()[0] ?? "");
    expect(m).not.toBeNull();
    const [, y, mo, d, h, mi, s] = m!.map(Number);
    const stamp = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) / 1000;
    expect(stamp).toBeGreaterThanOrEqual(r.startedAt - 1);
    expect(stamp).toBeLessThanOrEqual(r.finishedAt + 1);
  });

  it("the tarball holds exactly gitlab.rb, gitlab-secrets.json and the SSH host keys, unchanged, and is private (0600)", () => {
    const r = run();
    expect(r.status).toBe(0);
    const [key] = objects();
    const tarball = join(layout.s3, BUCKET, key!);
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n");
    expect(entries.sort()).toEqual(["gitlab-secrets.json", "gitlab.rb", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]);
    for (const name of entries) {
      const inside = execFileSync("tar", ["-xzOf", tarball, name], { encoding: "utf8" });
      expect(inside).toBe(readFileSync(join(name.startsWith("ssh_host_") ? layout.ssh : layout.etc, name), "utf8"));
    }
    expect(r.uploads.map((u) => u.mode)).toEqual(["600"]);
  });

  it("still archives gitlab.rb and gitlab-secrets.json on an instance without SSH host keys", () => {
    for (const f of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]) rmSync(join(layout.ssh, f));
    const r = run();
    expect(r.status).toBe(0);
    const tarball = join(layout.s3, BUCKET, objects()[0]!);
    expect(execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n").sort()).toEqual(["gitlab-secrets.json", "gitlab.rb"]);
  });

  it("reports the metric the backup-too-old alarm watches, with this environment as dimension", () => {
    const r = run({ ENVIRONMENT: "production" });
    expect(r.status).toBe(0);
    const puts = r.actions.filter((a) => a.startsWith("aws cloudwatch put-metric-data")).map(argv);
    expect(puts).toHaveLength(1);
    const args = puts[0]!;
    expect(flag(args, "--namespace")).toBe(BACKUP_METRIC.namespace);
    expect(flag(args, "--metric-name")).toBe(BACKUP_METRIC.name);
    expect(flag(args, "--value")).toBe("1");
    expect(flag(args, "--dimensions")).toBe("Environment=production");
    expect(flag(args, "--region")).toBe(REGION);
  });

  it("uses the AWS CLI named by AWS_CLI, never the one on PATH", () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(r.actions.filter((a) => a.startsWith("PATH-aws"))).toEqual([]);
    expect(r.actions.filter((a) => a.startsWith("aws "))).toHaveLength(2);
  });

  it("builds the tarball in a work directory under TMPDIR and removes it afterwards", () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(r.uploads).toHaveLength(1);
    const local = r.uploads[0]!.path;
    expect(relative(layout.tmp, local).startsWith("..")).toBe(false);
    expect(basename(local)).toBe(basename(objects()[0]!));
    expect(existsSync(local)).toBe(false);
    expect(readdirSync(layout.tmp)).toEqual([]);
  });
});

describe("gitlab-backup-s3.sh: success is reported only when every step succeeded", () => {
  /** A failed run: non-zero, a log line naming the step, no metric, no work dir left. */
  function expectFailedRun(r: Run, step: string): void {
    expect(r.status).not.toBe(0);
    expect(output(r)).toMatch(new RegExp(`^gitlab-backup-s3: FAILED at step: ${step}$`, "m"));
    expect(r.actions.filter((a) => a.includes("put-metric-data"))).toEqual([]);
    expect(output(r)).not.toContain("backup complete");
    expect(readdirSync(layout.tmp)).toEqual([]);
  }

  it("gitlab-backup create fails: nothing is uploaded and no metric is sent", () => {
    const r = run({ FAKE_FAIL: "gitlab-backup" });
    expectFailedRun(r, "gitlab-backup create");
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=gitlab"]);
    expect(objects()).toEqual([]);
  });

  it("the config upload fails: no metric, and the work directory is still removed", () => {
    const r = run({ FAKE_FAIL: "s3" });
    expectFailedRun(r, "upload /etc/gitlab archive");
    expect(r.actions).toHaveLength(2);
    expect(r.actions[0]).toBe("gitlab-backup create CRON=1 DIRECTORY=gitlab");
    expect(r.actions[1]).toMatch(/^aws s3 cp /);
    expect(r.stderr).toContain("Access Denied");
  });

  it("gitlab-secrets.json is missing: the run fails before uploading (a restore would be impossible)", () => {
    rmSync(join(layout.etc, "gitlab-secrets.json"));
    const r = run();
    expectFailedRun(r, "archive /etc/gitlab");
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=gitlab"]);
    expect(objects()).toEqual([]);
  });

  it("the metric cannot be sent: the run still fails, so systemd shows the unit failed", () => {
    const r = run({ FAKE_FAIL: "cloudwatch" });
    expect(r.status).not.toBe(0);
    expect(output(r)).toMatch(/^gitlab-backup-s3: FAILED at step: report success$/m);
    expect(output(r)).not.toContain("backup complete");
    expect(readdirSync(layout.tmp)).toEqual([]);
  });
});

describe("gitlab-backup-s3.sh: required settings", () => {
  it.each(["BACKUP_BUCKET", "AWS_REGION", "ENVIRONMENT", "ARCHIVE_PREFIX"])("refuses to run without %s, doing nothing", (name) => {
    for (const value of [undefined, ""]) {
      const r = run({ [name]: value });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`${name} is not set`);
      expect(r.actions).toEqual([]);
      expect(filesUnder(layout.s3)).toEqual([]);
      expect(readdirSync(layout.tmp)).toEqual([]);
    }
  });
});
