// Runs the real backup script with sh against a temporary directory layout standing in for
// the scheduler container's mounts, with fake `docker` (and a pass-through `cp` that can be
// told to fail) first on PATH. Needs only sh, tar, find, touch and coreutils.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesUnder } from "../support/files";

const SCRIPT = join(__dirname, "..", "..", "userdata", "scripts", "gitlab-backup-to-nfs.sh");
const REAL_CP = execFileSync("sh", ["-c", "command -v cp"], { encoding: "utf8" }).trim();
const ARCHIVE = /^\d+_\d{4}_\d{2}_\d{2}_18\.5\.1_gitlab_backup\.tar$/;
const CONFIG_TARBALL = /^gitlab-config-\d{8}T\d{6}Z\.tar\.gz$/;

// Stands in for `docker exec gitlab gitlab-backup create CRON=1`: records its argv and writes
// an archive named like GitLab's into the backup directory (or fails, or writes nothing).
const FAKE_DOCKER = `#!/bin/sh
printf 'docker %s\\n' "$*" >> "$ACTIONS_LOG"
case "\${FAKE_DOCKER_MODE:-ok}" in
  fail) echo "fake gitlab-backup: failed" >&2; exit 1 ;;
  empty) exit 0 ;;
esac
ts=$(date +%s)
i=0
while [ "$i" -lt 500 ]; do
  printf 'block %s of the archive made at %s\\n' "$i" "$ts"
  i=$((i + 1))
done > "$BACKUP_SOURCE_DIR/\${ts}_2026_01_15_18.5.1_gitlab_backup.tar"
`;

// Records the copy, then copies for real, or simulates a NAS that drops mid-copy
// (half a file, error) or a copy that silently lands short (half a file, success).
const FAKE_CP = `#!/bin/sh
printf 'cp %s\\n' "$*" >> "$ACTIONS_LOG"
case "\${FAKE_CP_MODE:-ok}" in
  fail-midway) printf 'half an archive' > "$2"; exit 1 ;;
  truncate) printf 'half an archive' > "$2"; exit 0 ;;
esac
exec ${REAL_CP} "$@"
`;

interface Layout {
  root: string;
  source: string;
  config: string;
  nfs: string;
  textfile: string;
  actions: string;
  bin: string;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The fake commands' calls, in order. */
  actions: string[];
  /** The script's "step: …" log lines, in order. */
  steps: string[];
  startedAt: number;
  finishedAt: number;
}

let layout: Layout;

function makeLayout(): Layout {
  const root = mkdtempSync(join(tmpdir(), "gitlab-backup-test-"));
  const l: Layout = {
    root,
    source: join(root, "gitlab-backups"),
    config: join(root, "gitlab-config"),
    nfs: join(root, "nfs"),
    textfile: join(root, "textfile"),
    actions: join(root, "actions.log"),
    bin: join(root, "bin"),
  };
  for (const dir of [l.source, l.config, l.nfs, l.textfile, l.bin]) mkdirSync(dir);
  writeFileSync(join(l.config, "gitlab.rb"), "external_url 'https://gitlab.example.com'\n", { mode: 0o600 });
  writeFileSync(join(l.config, "gitlab-secrets.json"), '{"gitlab_rails":{"secret_key_base":"test"}}\n', { mode: 0o600 });
  writeFileSync(join(l.config, "application-settings.rb"), "# not part of the config archive\n");
  for (const type of ["ed25519", "rsa"]) {
    writeFileSync(join(l.config, `ssh_host_${type}_key`), `private ${type} host key\n`, { mode: 0o600 });
    writeFileSync(join(l.config, `ssh_host_${type}_key.pub`), `ssh-${type} public host key\n`);
  }
  writeFileSync(join(l.bin, "docker"), FAKE_DOCKER);
  writeFileSync(join(l.bin, "cp"), FAKE_CP);
  chmodSync(join(l.bin, "docker"), 0o755);
  chmodSync(join(l.bin, "cp"), 0o755);
  return l;
}

function run(env: Record<string, string> = {}): Run {
  const base = { ...process.env };
  for (const k of ["GITLAB_CONTAINER", "RETENTION_DAYS", "FAKE_DOCKER_MODE", "FAKE_CP_MODE"]) delete base[k];
  const startedAt = Math.floor(Date.now() / 1000);
  const result = spawnSync("sh", [SCRIPT], {
    encoding: "utf8",
    env: {
      ...base,
      PATH: `${layout.bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      ACTIONS_LOG: layout.actions,
      BACKUP_SOURCE_DIR: layout.source,
      GITLAB_CONFIG_DIR: layout.config,
      NFS_DIR: layout.nfs,
      TEXTFILE_DIR: layout.textfile,
      ...env,
    },
  });
  const finishedAt = Math.ceil(Date.now() / 1000);
  const actions = existsSync(layout.actions) ? readFileSync(layout.actions, "utf8").trim().split("\n").filter(Boolean) : [];
  rmSync(layout.actions, { force: true });
  const steps = [...result.stdout.matchAll(/gitlab-backup-to-nfs: step: (.*)$/gm)].map((m) => m[1] ?? "");
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, actions, steps, startedAt, finishedAt };
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** Sample values of the metrics file, by metric name. */
function metrics(): Record<string, number> {
  const text = readFileSync(join(layout.textfile, "gitlab_backup.prom"), "utf8");
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(gitlab_backup_[a-z_]+) (\S+)$/.exec(line);
    if (m?.[1] && m[2]) values[m[1]] = Number(m[2]);
  }
  return values;
}

function touchAgo(path: string, ago: string, content = "x"): void {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  execFileSync("touch", ["-d", ago, path]);
}

/** Half-written files: our temporary names, anywhere in the layout. */
function leftovers(): string[] {
  return filesUnder(layout.root).filter((f) => /\.partial$|\.prom\.\d+$/.test(f));
}

const PREVIOUS_METRICS = [
  "gitlab_backup_last_run_timestamp_seconds 1700000000",
  "gitlab_backup_last_success_timestamp_seconds 1700000000",
  "gitlab_backup_last_status 1",
  "gitlab_backup_last_size_bytes 1234",
  "gitlab_backup_duration_seconds 60",
  "",
].join("\n");

beforeEach(() => {
  layout = makeLayout();
});

afterEach(() => {
  rmSync(layout.root, { recursive: true, force: true });
});

describe("gitlab-backup-to-nfs.sh: a successful run", () => {
  it("creates the backup in GitLab, then copies it, then saves the config, then prunes, in that order", () => {
    const r = run();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.steps).toEqual([
      "check settings",
      "gitlab-backup create",
      "find the new archive",
      "copy archive to NFS",
      "archive gitlab.rb, gitlab-secrets.json and the SSH host keys",
      "delete archives older than 14 days",
    ]);
    const archive = readdirSync(layout.source).find((f) => ARCHIVE.test(f));
    expect(archive).toBeDefined();
    expect(r.actions).toEqual([
      // Nothing skipped: repositories, database, uploads and registry are all in the archive.
      "docker exec gitlab gitlab-backup create CRON=1",
      `cp ${join(layout.source, archive!)} ${join(layout.nfs, "gitlab", `.${archive}.partial`)}`,
    ]);
  });

  it("execs into the configured GitLab container", () => {
    const r = run({ GITLAB_CONTAINER: "my-gitlab" });
    expect(r.status).toBe(0);
    expect(r.actions[0]).toBe("docker exec my-gitlab gitlab-backup create CRON=1");
  });

  it("puts an identical copy of the new archive on the share, mode 0600, and only that one", () => {
    touchAgo(join(layout.source, "1600000000_2020_09_13_18.4.0_gitlab_backup.tar"), "3 days ago", "an older archive");
    const r = run();
    expect(r.status).toBe(0);
    const created = readdirSync(layout.source).filter((f) => ARCHIVE.test(f));
    expect(created).toHaveLength(1);
    const name = created[0]!;
    expect(filesUnder(join(layout.nfs, "gitlab"))).toEqual([name]);
    const copy = join(layout.nfs, "gitlab", name);
    expect(readFileSync(copy)).toEqual(readFileSync(join(layout.source, name)));
    expect(mode(copy)).toBe(0o600);
  });

  it("saves exactly gitlab.rb, gitlab-secrets.json and the SSH host keys in a 0600 tarball on the share", () => {
    const r = run();
    expect(r.status).toBe(0);
    const tarballs = filesUnder(join(layout.nfs, "config"));
    expect(tarballs).toHaveLength(1);
    expect(tarballs[0]).toMatch(CONFIG_TARBALL);
    const tarball = join(layout.nfs, "config", tarballs[0]!);
    expect(mode(tarball)).toBe(0o600);
    const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).trim().split("\n");
    expect(entries).toEqual([
      "gitlab.rb",
      "gitlab-secrets.json",
      "ssh_host_ed25519_key",
      "ssh_host_rsa_key",
      "ssh_host_ed25519_key.pub",
      "ssh_host_rsa_key.pub",
    ]);
    expect(execFileSync("tar", ["-xzOf", tarball, "ssh_host_ed25519_key"], { encoding: "utf8" })).toBe("private ed25519 host key\n");
    const secrets = execFileSync("tar", ["-xzOf", tarball, "gitlab-secrets.json"], { encoding: "utf8" });
    expect(secrets).toBe(readFileSync(join(layout.config, "gitlab-secrets.json"), "utf8"));
  });

  it("still saves gitlab.rb and gitlab-secrets.json when there are no SSH host keys, and says so", () => {
    for (const f of readdirSync(layout.config).filter((n) => n.startsWith("ssh_host_"))) rmSync(join(layout.config, f));
    const r = run();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("no SSH host keys");
    const [tarball] = filesUnder(join(layout.nfs, "config"));
    const entries = execFileSync("tar", ["-tzf", join(layout.nfs, "config", tarball!)], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(entries).toEqual(["gitlab.rb", "gitlab-secrets.json"]);
  });

  it("keeps the share's directories private", () => {
    expect(run().status).toBe(0);
    expect(mode(join(layout.nfs, "gitlab"))).toBe(0o700);
    expect(mode(join(layout.nfs, "config"))).toBe(0o700);
  });

  it("writes world-readable metrics for node_exporter: status 1, success and run times, size, duration", () => {
    const r = run();
    expect(r.status).toBe(0);
    const prom = join(layout.textfile, "gitlab_backup.prom");
    expect(mode(prom)).toBe(0o644);
    const m = metrics();
    const archive = filesUnder(join(layout.nfs, "gitlab"))[0]!;
    expect(m.gitlab_backup_last_status).toBe(1);
    expect(m.gitlab_backup_last_run_timestamp_seconds).toBeGreaterThanOrEqual(r.startedAt);
    expect(m.gitlab_backup_last_success_timestamp_seconds).toBeGreaterThanOrEqual(m.gitlab_backup_last_run_timestamp_seconds!);
    expect(m.gitlab_backup_last_success_timestamp_seconds).toBeLessThanOrEqual(r.finishedAt);
    expect(m.gitlab_backup_last_size_bytes).toBe(statSync(join(layout.nfs, "gitlab", archive)).size);
    expect(m.gitlab_backup_duration_seconds).toBeGreaterThanOrEqual(0);
    expect(Object.keys(m).sort()).toEqual([
      "gitlab_backup_duration_seconds",
      "gitlab_backup_last_run_timestamp_seconds",
      "gitlab_backup_last_size_bytes",
      "gitlab_backup_last_status",
      "gitlab_backup_last_success_timestamp_seconds",
    ]);
    const text = readFileSync(prom, "utf8");
    for (const name of Object.keys(m)) expect(text).toContain(`# TYPE ${name} gauge\n`);
    expect(leftovers()).toEqual([]);
  });
});

describe("gitlab-backup-to-nfs.sh: retention on the share", () => {
  const old = "15 days ago";
  const recent = "13 days ago";

  it("deletes archives and config tarballs older than RETENTION_DAYS and nothing else", () => {
    const g = (f: string) => join(layout.nfs, "gitlab", f);
    const c = (f: string) => join(layout.nfs, "config", f);
    touchAgo(g("1500000000_2017_07_14_17.0.0_gitlab_backup.tar"), old);
    touchAgo(g("1600000000_2020_09_13_17.1.0_gitlab_backup.tar"), recent);
    touchAgo(c("gitlab-config-20170714T020000Z.tar.gz"), old);
    touchAgo(c("gitlab-config-20200913T020000Z.tar.gz"), recent);
    // Not ours, or not where we prune: never touched, however old.
    touchAgo(g("README.txt"), "400 days ago");
    touchAgo(g("manual-copy.tar"), "400 days ago");
    touchAgo(g("nested/1400000000_2014_05_13_16.0.0_gitlab_backup.tar"), "400 days ago");
    touchAgo(c("gitlab.rb"), "400 days ago");
    touchAgo(join(layout.nfs, "other/1400000000_2014_05_13_16.0.0_gitlab_backup.tar"), "400 days ago");
    touchAgo(join(layout.nfs, "gitlab-config-20140513T020000Z.tar.gz"), "400 days ago");

    const r = run({ RETENTION_DAYS: "14" });
    expect(r.status).toBe(0);
    const after = filesUnder(layout.nfs);
    expect(after).not.toContain("gitlab/1500000000_2017_07_14_17.0.0_gitlab_backup.tar");
    expect(after).not.toContain("config/gitlab-config-20170714T020000Z.tar.gz");
    for (const kept of [
      "gitlab/1600000000_2020_09_13_17.1.0_gitlab_backup.tar",
      "config/gitlab-config-20200913T020000Z.tar.gz",
      "gitlab/README.txt",
      "gitlab/manual-copy.tar",
      "gitlab/nested/1400000000_2014_05_13_16.0.0_gitlab_backup.tar",
      "config/gitlab.rb",
      "other/1400000000_2014_05_13_16.0.0_gitlab_backup.tar",
      "gitlab-config-20140513T020000Z.tar.gz",
    ]) {
      expect(after).toContain(kept);
    }
    // This run's archive and tarball are there too.
    const created = readdirSync(layout.source).find((f) => ARCHIVE.test(f));
    expect(after).toContain(`gitlab/${created}`);
    expect(after.filter((f) => f.startsWith("config/") && CONFIG_TARBALL.test(f.slice("config/".length)))).toHaveLength(2);
    expect(r.stdout).toContain("1500000000_2017_07_14_17.0.0_gitlab_backup.tar");
  });

  it("follows RETENTION_DAYS", () => {
    touchAgo(join(layout.nfs, "gitlab", "1500000000_2017_07_14_17.0.0_gitlab_backup.tar"), old);
    expect(run({ RETENTION_DAYS: "30" }).status).toBe(0);
    expect(existsSync(join(layout.nfs, "gitlab", "1500000000_2017_07_14_17.0.0_gitlab_backup.tar"))).toBe(true);
  });

  it("removes its own stale partial copies after a day", () => {
    touchAgo(join(layout.nfs, "gitlab", ".1500000000_2017_07_14_17.0.0_gitlab_backup.tar.partial"), "2 days ago");
    touchAgo(join(layout.nfs, "config", ".gitlab-config-20170714T020000Z.tar.gz.partial"), "2 days ago");
    expect(run().status).toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it("prunes nothing when the backup fails (the last good archives stay)", () => {
    touchAgo(join(layout.nfs, "gitlab", "1500000000_2017_07_14_17.0.0_gitlab_backup.tar"), old);
    expect(run({ FAKE_DOCKER_MODE: "fail" }).status).not.toBe(0);
    expect(existsSync(join(layout.nfs, "gitlab", "1500000000_2017_07_14_17.0.0_gitlab_backup.tar"))).toBe(true);
  });
});

describe("gitlab-backup-to-nfs.sh: failures are visible and leave nothing half-written", () => {
  function expectFailedRun(r: Run, step: string): void {
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`FAILED at step '${step}'`);
    const m = metrics();
    expect(m.gitlab_backup_last_status).toBe(0);
    expect(m.gitlab_backup_last_run_timestamp_seconds).toBeGreaterThanOrEqual(r.startedAt);
    expect(mode(join(layout.textfile, "gitlab_backup.prom"))).toBe(0o644);
    expect(leftovers()).toEqual([]);
  }

  it("gitlab-backup create fails: status 0, the previous success time and size are kept", () => {
    writeFileSync(join(layout.textfile, "gitlab_backup.prom"), PREVIOUS_METRICS);
    const r = run({ FAKE_DOCKER_MODE: "fail" });
    expectFailedRun(r, "gitlab-backup create");
    const m = metrics();
    expect(m.gitlab_backup_last_success_timestamp_seconds).toBe(1700000000);
    expect(m.gitlab_backup_last_size_bytes).toBe(1234);
    expect(r.actions).toEqual(["docker exec gitlab gitlab-backup create CRON=1"]);
    expect(filesUnder(layout.nfs)).toEqual([]);
  });

  it("fails before any success: no success timestamp at all, so the missing-backup alert fires", () => {
    const r = run({ FAKE_DOCKER_MODE: "fail" });
    expectFailedRun(r, "gitlab-backup create");
    expect(metrics()).not.toHaveProperty("gitlab_backup_last_success_timestamp_seconds");
    expect(metrics()).not.toHaveProperty("gitlab_backup_last_size_bytes");
  });

  it("never copies an old archive when gitlab-backup create made no new one", () => {
    touchAgo(join(layout.source, "1600000000_2020_09_13_18.4.0_gitlab_backup.tar"), "1 day ago", "yesterday's archive");
    const r = run({ FAKE_DOCKER_MODE: "empty" });
    expectFailedRun(r, "find the new archive");
    expect(r.actions).toEqual(["docker exec gitlab gitlab-backup create CRON=1"]);
    expect(filesUnder(layout.nfs)).toEqual([]);
  });

  it("the NAS drops in the middle of the copy: no partial archive is left on the share", () => {
    writeFileSync(join(layout.textfile, "gitlab_backup.prom"), PREVIOUS_METRICS);
    const r = run({ FAKE_CP_MODE: "fail-midway" });
    expectFailedRun(r, "copy archive to NFS");
    expect(metrics().gitlab_backup_last_success_timestamp_seconds).toBe(1700000000);
    expect(filesUnder(join(layout.nfs, "gitlab"))).toEqual([]);
    expect(filesUnder(join(layout.nfs, "config"))).toEqual([]);
  });

  it("a copy that silently lands short is caught by the verification and removed", () => {
    const r = run({ FAKE_CP_MODE: "truncate" });
    expectFailedRun(r, "copy archive to NFS");
    expect(r.stderr).toContain("copy read back from the share differs from the source");
    expect(filesUnder(join(layout.nfs, "gitlab"))).toEqual([]);
  });

  it("gitlab-secrets.json is missing: the run fails (a restore would be impossible) and writes no tarball", () => {
    rmSync(join(layout.config, "gitlab-secrets.json"));
    const r = run();
    expectFailedRun(r, "archive gitlab.rb, gitlab-secrets.json and the SSH host keys");
    expect(r.stderr).toContain("gitlab-secrets.json is missing");
    expect(filesUnder(join(layout.nfs, "config"))).toEqual([]);
  });

  it("refuses a retention of 0 days before doing anything", () => {
    const r = run({ RETENTION_DAYS: "0" });
    expectFailedRun(r, "check settings");
    expect(r.actions).toEqual([]);
  });

  it("the NFS share is not there: fails before running the backup", () => {
    rmSync(layout.nfs, { recursive: true });
    const r = run();
    expectFailedRun(r, "check settings");
    expect(r.stderr).toContain("is the NFS volume mounted?");
    expect(r.actions).toEqual([]);
  });

  it("leaves no temporary metrics file when the metrics cannot be written, and exits non-zero", () => {
    rmSync(layout.textfile, { recursive: true });
    const r = run();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("could not write metrics");
    expect(leftovers()).toEqual([]);
  });
});
