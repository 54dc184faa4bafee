// Runs the real nightly AWS backup script with bash, with a fake `gitlab-backup` first on PATH
// and the real AWS CLI (/usr/bin/aws) passed through AWS_CLI (the script's seam for it; the
// unit finds it on PATH), sending its API requests to a local recorder (AWS_ENDPOINT_URL): the
// CLI checks every option and parameter, the tests assert on the S3 and CloudWatch requests
// that arrive. A thin wrapper in front of the CLI notes the mode of the file it uploads (the
// work file is gone after the run). The script archives /etc/gitlab by that path; a
// pass-through `tar` on PATH points that one path at a temporary stand-in and runs the real
// tar. TMPDIR points at an empty directory so the script's work directory can be watched.
// Needs bash, tar, gzip, stat, coreutils and the AWS CLI.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BACKUP_METRIC } from "../../constructs/backups/aws";
import { shippedScript } from "../helpers";
import { AWS_CLI, awsCliEnv, runAwsCliTests, runScript } from "../support/aws-cli";
import { AwsRecorder, type AwsRequest } from "../support/aws-recorder";

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

// In front of the real AWS CLI: notes the local source of \`s3 cp\` and its mode, then runs the CLI.
const CLI_WRAPPER = `#!/bin/sh
if [ "$3 $4" = "s3 cp" ]; then
  src="" prev=""
  for a in "$@"; do case "$a" in s3://*) src=$prev ;; esac; prev=$a; done
  printf '%s %s\\n' "$src" "$(stat -c %a "$src")" >> "$UPLOADS_LOG"
fi
exec ${AWS_CLI} "$@"
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
  /** The AWS API requests that reached the recorder, in order. */
  requests: AwsRequest[];
  /** What \`aws s3 cp\` was given: local path and its octal mode at upload time. */
  uploads: { path: string; mode: string }[];
  startedAt: number;
  finishedAt: number;
}

let layout: Layout;
let recorder: AwsRecorder;

function makeLayout(): Layout {
  const root = mkdtempSync(join(tmpdir(), "gitlab-backup-s3-test-"));
  const l: Layout = {
    root,
    etc: join(root, "etc-gitlab"),
    ssh: join(root, "etc-ssh"),
    tmp: join(root, "tmp"),
    bin: join(root, "bin"),
    aws: join(root, "aws-cli", "aws"),
    actions: join(root, "actions.log"),
    uploads: join(root, "uploads.log"),
  };
  for (const dir of [l.etc, l.ssh, l.tmp, l.bin, join(root, "aws-cli"), join(l.etc, "secrets.d")]) mkdirSync(dir);
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
    [l.aws, CLI_WRAPPER],
  ] as const) {
    writeFileSync(path, text);
    chmodSync(path, 0o755);
  }
  return l;
}

/** Runs the script; an env value of \`undefined\` unsets that variable. */
async function run(env: Record<string, string | undefined> = {}): Promise<Run> {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of [
    "BACKUP_BUCKET",
    "AWS_REGION",
    "ENVIRONMENT",
    "ARCHIVE_PREFIX",
    "CONFIG_PREFIX",
    "AWS_CLI",
    "SSH_ETC",
    "METRIC_NAMESPACE",
    "FAKE_FAIL",
    "TZ",
  ]) {
    delete base[k];
  }
  const merged: Record<string, string | undefined> = {
    ...base,
    ...awsCliEnv(recorder),
    PATH: `${layout.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    TMPDIR: layout.tmp,
    ACTIONS_LOG: layout.actions,
    UPLOADS_LOG: layout.uploads,
    FAKE_GITLAB_ETC: layout.etc,
    AWS_CLI: layout.aws,
    BACKUP_BUCKET: BUCKET,
    AWS_REGION: REGION,
    ENVIRONMENT: ENV_NAME,
    ARCHIVE_PREFIX: "gitlab",
    CONFIG_PREFIX: "config",
    SSH_ETC: layout.ssh,
    ...env,
  };
  const finalEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) finalEnv[k] = v;
  const startedAt = Math.floor(Date.now() / 1000);
  const before = recorder.requests.length;
  const result = await runScript(SCRIPT, [], finalEnv);
  const finishedAt = Math.ceil(Date.now() / 1000);
  const lines = (path: string) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : []);
  const actions = lines(layout.actions);
  const uploads = lines(layout.uploads).map((l) => {
    const [path = "", mode = ""] = l.split(" ");
    return { path, mode };
  });
  rmSync(layout.actions, { force: true });
  rmSync(layout.uploads, { force: true });
  return { ...result, actions, requests: recorder.requests.slice(before), uploads, startedAt, finishedAt };
}

/** Objects PUT into the backup bucket, as keys. */
const objects = (r: Run, bucket = BUCKET) => r.requests.filter((q) => q.action === "PutObject" && q.params.Bucket === bucket).map((q) => String(q.params.Key));

/** The body of the object PUT under \`key\`, written to a file (for tar). */
function objectFile(r: Run, key: string): string {
  const put = r.requests.find((q) => q.action === "PutObject" && q.params.Key === key);
  if (!put) throw new Error(`no PutObject for ${key}`);
  const file = join(layout.root, basename(key));
  writeFileSync(file, put.body);
  return file;
}

/** Everything the script printed, stdout and stderr (both end up in the journal). */
const output = (r: Run) => `${r.stdout}\n${r.stderr}`;

beforeEach(async () => {
  layout = makeLayout();
  recorder = await new AwsRecorder().start();
});

afterEach(async () => {
  await recorder.stop();
  rmSync(layout.root, { recursive: true, force: true });
});

const PUT_METRIC = {
  Action: "PutMetricData",
  Version: "2010-08-01",
  Namespace: BACKUP_METRIC.namespace,
  "MetricData.member.1.MetricName": BACKUP_METRIC.name,
  "MetricData.member.1.Value": "1",
  "MetricData.member.1.Unit": "Count",
  "MetricData.member.1.Dimensions.member.1.Name": "Environment",
  "MetricData.member.1.Dimensions.member.1.Value": ENV_NAME,
};

/**
 * One run shared by a describe block's assertions (each run is two AWS CLI processes), on a
 * layout and recorder of the block's own: run() works on the current ones.
 */
function sharedRun(env: Record<string, string | undefined> = {}): () => { run: Run; layout: Layout } {
  let shared: { run: Run; layout: Layout; recorder: AwsRecorder } | undefined;
  beforeAll(async () => {
    layout = makeLayout();
    recorder = await new AwsRecorder().start();
    shared = { layout, recorder, run: await run(env) };
  });
  afterAll(async () => {
    await shared?.recorder.stop();
    if (shared) rmSync(shared.layout.root, { recursive: true, force: true });
  });
  return () => shared!;
}

// One nightly run as the timer starts it (default settings), shared by the assertions on it.
describe.skipIf(!runAwsCliTests)("gitlab-backup-s3.sh: a nightly run", () => {
  const nightly = sharedRun();

  it("runs gitlab-backup create, then uploads the config tarball, then reports success, in that order", () => {
    const r = nightly().run;
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // Nothing skipped; CRON=1 keeps the output to errors only; DIRECTORY= is the bucket folder.
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=gitlab"]);
    const [key] = objects(r);
    expect(key).toMatch(CONFIG_KEY);
    expect(r.requests.map((q) => `${q.service} ${q.action}`)).toEqual(["s3 PutObject", "monitoring PutMetricData"]);
    expect(r.requests[1]!.params).toEqual(PUT_METRIC);
    expect(r.stdout).toContain(`gitlab-backup-s3: backup complete: archive and config uploaded to s3://${BUCKET}`);
  });

  it("the tarball holds exactly gitlab.rb, gitlab-secrets.json and the SSH host keys, unchanged, and is private (0600)", () => {
    const r = nightly().run;
    expect(r.status).toBe(0);
    const tarball = objectFile(r, objects(r)[0]!);
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n");
    expect(entries.sort()).toEqual(["gitlab-secrets.json", "gitlab.rb", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]);
    for (const name of entries) {
      const inside = execFileSync("tar", ["-xzOf", tarball, name], { encoding: "utf8" });
      expect(inside).toBe(readFileSync(join(name.startsWith("ssh_host_") ? nightly().layout.ssh : nightly().layout.etc, name), "utf8"));
    }
    expect(r.uploads.map((u) => u.mode)).toEqual(["600"]);
  });

  it("uses the AWS CLI named by AWS_CLI, never the one on PATH", () => {
    const r = nightly().run;
    expect(r.status).toBe(0);
    expect(r.actions.filter((a) => a.startsWith("PATH-aws"))).toEqual([]);
    expect(r.requests).toHaveLength(2);
  });

  it("builds the tarball in a work directory under TMPDIR and removes it afterwards", () => {
    const r = nightly().run;
    expect(r.status).toBe(0);
    expect(r.uploads).toHaveLength(1);
    const local = r.uploads[0]!.path;
    expect(relative(nightly().layout.tmp, local).startsWith("..")).toBe(false);
    expect(basename(local)).toBe(basename(objects(r)[0]!));
    expect(existsSync(local)).toBe(false);
    expect(readdirSync(nightly().layout.tmp)).toEqual([]);
  });
});

// One run with every setting away from the defaults, shared by the assertions on each: the
// settings are independent of one another.
describe.skipIf(!runAwsCliTests)("gitlab-backup-s3.sh: a run with its settings changed", () => {
  const SETTINGS = {
    BACKUP_BUCKET: "shared-backups",
    AWS_REGION: "us-west-2",
    ARCHIVE_PREFIX: "teams/gitlab",
    CONFIG_PREFIX: "teams/gitlab/config",
    ENVIRONMENT: "production",
    // UTC+14: a local-time stamp would be 14 hours off.
    TZ: "Pacific/Kiritimati",
  };
  const changed = sharedRun(SETTINGS);

  it("uploads one tarball to s3://$BACKUP_BUCKET/$CONFIG_PREFIX/, encrypted (SSE-S3), in AWS_REGION", () => {
    const r = changed().run;
    expect(r.status, output(r)).toBe(0);
    const puts = r.requests.filter((q) => q.action === "PutObject");
    expect(puts).toHaveLength(1);
    const put = puts[0]!;
    expect(put.params.Bucket).toBe("shared-backups");
    expect(put.params.Key).toMatch(/^teams\/gitlab\/config\/gitlab-config-\d{8}T\d{6}Z\.tar\.gz$/);
    expect(put.headers["x-amz-server-side-encryption"]).toBe("AES256");
    expect(put.region).toBe("us-west-2");
    expect(r.requests.every((q) => q.region === "us-west-2")).toBe(true);
  });

  it("in a shared bucket, keeps both under the environment's prefix (gitlab-backup's DIRECTORY=, CONFIG_PREFIX)", () => {
    const r = changed().run;
    expect(r.status).toBe(0);
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=teams/gitlab"]);
    expect(objects(r, "shared-backups")).toEqual([expect.stringMatching(/^teams\/gitlab\/config\/gitlab-config-\d{8}T\d{6}Z\.tar\.gz$/)]);
  });

  it("names the tarball after the current time in UTC, whatever the host's time zone", () => {
    const r = changed().run;
    expect(r.status).toBe(0);
    const m = CONFIG_KEY.exec((objects(r, "shared-backups")[0] ?? "").replace(/^teams\/gitlab\//, ""));
    expect(m).not.toBeNull();
    const [, y, mo, d, h, mi, s] = m!.map(Number);
    const stamp = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) / 1000;
    expect(stamp).toBeGreaterThanOrEqual(r.startedAt - 1);
    expect(stamp).toBeLessThanOrEqual(r.finishedAt + 1);
  });

  it("reports the metric the backup-too-old alarm watches, with this environment as dimension", () => {
    const r = changed().run;
    expect(r.status).toBe(0);
    const puts = r.requests.filter((q) => q.action === "PutMetricData");
    expect(puts).toHaveLength(1);
    expect(puts[0]!.service).toBe("monitoring");
    expect(puts[0]!.region).toBe("us-west-2");
    expect(puts[0]!.params).toEqual({ ...PUT_METRIC, "MetricData.member.1.Dimensions.member.1.Value": "production" });
  });
});

describe.skipIf(!runAwsCliTests)("gitlab-backup-s3.sh: a successful run", () => {
  it("still archives gitlab.rb and gitlab-secrets.json on an instance without SSH host keys", async () => {
    for (const f of ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"]) rmSync(join(layout.ssh, f));
    const r = await run();
    expect(r.status).toBe(0);
    const tarball = objectFile(r, objects(r)[0]!);
    expect(execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n").sort()).toEqual(["gitlab-secrets.json", "gitlab.rb"]);
  });
});

describe.skipIf(!runAwsCliTests)("gitlab-backup-s3.sh: success is reported only when every step succeeded", () => {
  /** A failed run: non-zero, a log line naming the step, no metric, no work dir left. */
  function expectFailedRun(r: Run, step: string): void {
    expect(r.status).not.toBe(0);
    expect(output(r)).toMatch(new RegExp(`^gitlab-backup-s3: FAILED at step: ${step}$`, "m"));
    expect(r.requests.filter((q) => q.action === "PutMetricData")).toEqual([]);
    expect(output(r)).not.toContain("backup complete");
    expect(readdirSync(layout.tmp)).toEqual([]);
  }

  it("gitlab-backup create fails: nothing is uploaded and no metric is sent", async () => {
    const r = await run({ FAKE_FAIL: "gitlab-backup" });
    expectFailedRun(r, "gitlab-backup create");
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=gitlab"]);
    expect(r.requests).toEqual([]);
  });

  it("the config upload fails: no metric, and the work directory is still removed", async () => {
    recorder.fault = (q) => (q.action === "PutObject" ? { code: "AccessDenied", message: "Access Denied", status: 403 } : undefined);
    const r = await run();
    expectFailedRun(r, "upload /etc/gitlab archive");
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=gitlab"]);
    expect(r.requests.map((q) => q.action)).toEqual(["PutObject"]);
    expect(r.stderr).toContain("Access Denied");
  });

  it("gitlab-secrets.json is missing: the run fails before uploading (a restore would be impossible)", async () => {
    rmSync(join(layout.etc, "gitlab-secrets.json"));
    const r = await run();
    expectFailedRun(r, "archive /etc/gitlab");
    expect(r.actions).toEqual(["gitlab-backup create CRON=1 DIRECTORY=gitlab"]);
    expect(r.requests).toEqual([]);
  });

  it("the metric cannot be sent: the run still fails, so systemd shows the unit failed", async () => {
    recorder.fault = (q) => (q.action === "PutMetricData" ? { code: "Throttling", message: "Rate exceeded" } : undefined);
    const r = await run();
    expect(r.status).not.toBe(0);
    expect(r.requests.map((q) => q.action)).toEqual(["PutObject", "PutMetricData"]);
    expect(output(r)).toMatch(/^gitlab-backup-s3: FAILED at step: report success$/m);
    expect(output(r)).not.toContain("backup complete");
    expect(readdirSync(layout.tmp)).toEqual([]);
  });
});

describe("gitlab-backup-s3.sh: required settings", () => {
  it.each(["BACKUP_BUCKET", "AWS_REGION", "ENVIRONMENT", "ARCHIVE_PREFIX", "CONFIG_PREFIX"])("refuses to run without %s, doing nothing", async (name) => {
    for (const value of [undefined, ""]) {
      const r = await run({ [name]: value });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`${name} is not set`);
      expect(r.actions).toEqual([]);
      expect(r.requests).toEqual([]);
      expect(readdirSync(layout.tmp)).toEqual([]);
    }
  });
});
