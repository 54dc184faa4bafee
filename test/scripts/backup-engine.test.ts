// The homelab's backup scheduler against a real Docker engine: its scripts as the stack uploads
// them, run with busybox's tools and the docker CLI (as in the docker:*-cli image), driving a
// stand-in GitLab container whose `gitlab-backup` writes an archive into the directory the
// scheduler reads (GitLab's backups directory, a bind mount on the host).
//
// Also what the copy's verification reads: under strace, the copy on the share is read back
// with O_DIRECT, so the checksum is of what the NAS serves, not of this host's page cache.
// And the share check that alerts when the NFS share is missing: inside a container, a
// mounted volume at /nfs is up, a plain directory is not.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { run } from "../../scripts/verify/tools";
import { exampleStack, resources } from "../examples";
import { BUSYBOX_IMAGE, busyboxBin, describeWithDockerEngine, type DockerEngine } from "../support/docker-engine";

const stack = exampleStack("homelab");
const scheduler = resources(stack, "docker_container").find((c) => c.name === "gitlab-backup-scheduler");
const uploaded = (path: string) => unescapeTemplate(scheduler.upload.find((u: any) => u.file === path)?.content as string);
const env = Object.fromEntries((scheduler.env as string[]).map((e) => e.split("=", 2) as [string, string]));
const crontab = uploaded("/etc/crontabs/root");
/** The command of the crontab line whose command starts with `prefix`. */
const cronCommand = (prefix: string) =>
  crontab
    .split("\n")
    .find((l) => l.split(/\s+/)[5]?.startsWith(prefix))
    ?.split(/\s+/)[5] as string;

// Stands in for GitLab's `gitlab-backup create CRON=1`: records the call, writes an archive.
const FAKE_GITLAB_BACKUP = `#!/bin/sh
echo "$*" >> /var/opt/gitlab/backups/.calls
ts=$(date +%s)
head -c 300000 /dev/urandom > "/var/opt/gitlab/backups/\${ts}_2026_01_15_18.5.1_gitlab_backup.tar"
`;

interface Layout {
  readonly root: string;
  readonly source: string;
  readonly config: string;
  readonly nfs: string;
  readonly textfile: string;
}

function layoutIn(engine: DockerEngine, name: string): Layout {
  const root = join(engine.scratch, name);
  const l = { root, source: join(root, "backups"), config: join(root, "config"), nfs: join(root, "nfs"), textfile: join(root, "textfile") };
  for (const d of [l.source, l.config, l.nfs, l.textfile]) mkdirSync(d, { recursive: true });
  writeFileSync(join(l.config, "gitlab.rb"), "external_url 'https://gitlab.example.com'\n", { mode: 0o600 });
  writeFileSync(join(l.config, "gitlab-secrets.json"), "{}\n", { mode: 0o600 });
  return l;
}

function startStandIn(engine: DockerEngine, l: Layout): void {
  const bin = join(l.root, "gitlab-bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "gitlab-backup"), FAKE_GITLAB_BACKUP);
  chmodSync(join(bin, "gitlab-backup"), 0o755);
  engine.dockerOk([
    "run",
    "-d",
    "--name",
    env.GITLAB_CONTAINER as string,
    "--network",
    "none",
    "-v",
    `${bin}:/usr/local/bin:ro`,
    "-v",
    `${l.source}:/var/opt/gitlab/backups`,
    BUSYBOX_IMAGE,
    "sleep",
    "3600",
  ]);
}

/**
 * Runs one of the scheduler's scripts with the container's environment, its paths mapped to the
 * layout. Asynchronous, so the share check's containers run meanwhile.
 */
async function runScript(engine: DockerEngine, l: Layout, containerPath: string, trace?: string) {
  const bin = busyboxBin(join(engine.scratch, "bin"));
  const script = join(l.root, containerPath.replace(/\//g, "_"));
  writeFileSync(script, uploaded(containerPath));
  const paths = { BACKUP_SOURCE_DIR: l.source, GITLAB_CONFIG_DIR: l.config, NFS_DIR: l.nfs, TEXTFILE_DIR: l.textfile };
  const command = [join(bin, "sh"), script];
  const options = { env: { ...env, ...paths, PATH: bin, DOCKER_HOST: engine.host } };
  const r = trace
    ? await run(STRACE, ["-f", "-e", "trace=open,openat", "-o", trace, ...command], options)
    : await run(command[0] as string, command.slice(1), options);
  return { status: r.code, output: `${r.stdout}${r.stderr}` };
}

const metric = (l: Layout, file: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(readFileSync(join(l.textfile, file), "utf8"))?.[1]);
const STRACE = spawnSync("sh", ["-c", "command -v strace"], { encoding: "utf8" }).stdout.trim();
const hasStrace = () => STRACE !== "";

/**
 * The share check as cron runs it (`run`), in a container with `mount` at /nfs or nothing
 * there, writing its metrics to a directory of its own (`read` one).
 */
function shareCheck(engine: DockerEngine, l: Layout) {
  const script = join(l.root, "share-check.sh");
  writeFileSync(script, uploaded(cronCommand("/usr/local/bin/gitlab-backup-share-check")));
  const textfile = join(l.root, "share-textfile");
  mkdirSync(textfile);
  return {
    textfile,
    run: (mount: string[]) =>
      engine.dockerAsync([
        "run",
        "--rm",
        "--network",
        "none",
        ...mount,
        "-v",
        `${script}:/check.sh:ro`,
        "-v",
        `${textfile}:/textfile`,
        "-e",
        "NFS_DIR=/nfs",
        "-e",
        "TEXTFILE_DIR=/textfile",
        BUSYBOX_IMAGE,
        "sh",
        "/check.sh",
      ]),
    read: (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(readFileSync(join(textfile, "gitlab_backup_share.prom"), "utf8"))?.[1]),
  };
}

describeWithDockerEngine("the backup scheduler's scripts against a real engine", (engine) => {
  let l: Layout;
  let backup: Awaited<ReturnType<typeof runScript>>;
  const trace = () => join(l.root, "strace.log");

  beforeAll(async () => {
    l = layoutIn(engine(), "ok");
    startStandIn(engine(), l);
    if (!hasStrace() && process.env.CI === "true") throw new Error("strace is required with CI=true (scripts/install-validators.sh)");
    backup = await runScript(engine(), l, cronCommand("/usr/local/bin/gitlab-backup-to-nfs"), hasStrace() ? trace() : undefined);
  }, 120_000);

  it("creates the backup inside the GitLab container with docker exec, then copies it and the config to the share", () => {
    expect(backup.status, backup.output).toBe(0);
    expect(readFileSync(join(l.source, ".calls"), "utf8")).toBe("create CRON=1\n");
    const archives = readdirSync(join(l.nfs, "gitlab"));
    expect(archives).toHaveLength(1);
    expect(readFileSync(join(l.nfs, "gitlab", archives[0] as string))).toEqual(readFileSync(join(l.source, archives[0] as string)));
    expect(readdirSync(join(l.nfs, "config"))[0]).toMatch(/^gitlab-config-\d{8}T\d{6}Z\.tar\.gz$/);
    expect(metric(l, "gitlab_backup.prom", "gitlab_backup_last_status")).toBe(1);
  });

  it.skipIf(!hasStrace() && process.env.CI !== "true")("reads the copy back from the share with O_DIRECT, past this host's page cache", () => {
    const opens = readFileSync(trace(), "utf8")
      .split("\n")
      .filter((line) => line.includes(".partial"));
    for (const copy of [/_gitlab_backup\.tar\.partial"/, /gitlab-config-.*\.tar\.gz\.partial"/]) {
      const reads = opens.filter((line) => copy.test(line) && /O_RDONLY/.test(line));
      expect(reads.length, opens.join("\n")).toBeGreaterThan(0);
      expect(
        reads.every((line) => line.includes("O_DIRECT")),
        reads.join("\n"),
      ).toBe(true);
    }
  });

  // The last two share nothing (their own files, containers and volume) and mostly wait on the
  // engine (a 1 s stop, container starts): they run at the same time.
  it.concurrent("fails, naming the step, when the GitLab container is not running", async () => {
    await engine().dockerOkAsync(["stop", "-t", "1", env.GITLAB_CONTAINER as string]);
    const r = await runScript(engine(), l, cronCommand("/usr/local/bin/gitlab-backup-to-nfs"));
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/FAILED at step 'gitlab-backup create'/);
    expect(metric(l, "gitlab_backup.prom", "gitlab_backup_last_status")).toBe(0);
  }, 60_000);

  it.concurrent("checks the share every few minutes and says whether it is there: a mounted volume is, a plain directory is not", async () => {
    expect(crontab).toMatch(/^\*\/5 \* \* \* \* \/usr\/local\/bin\/gitlab-backup-share-check$/m);
    const check = shareCheck(engine(), l);
    await engine().dockerOkAsync(["volume", "create", "share"]);
    const up = await check.run(["-v", "share:/nfs"]);
    expect(up.status, up.stdout + up.stderr).toBe(0);
    expect(check.read("gitlab_backup_share_up")).toBe(1);
    expect(check.read("gitlab_backup_share_check_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 120);
    const down = await check.run([]);
    expect(down.status).not.toBe(0);
    expect(down.stdout + down.stderr).toMatch(/\/nfs is not a mounted share/);
    expect(check.read("gitlab_backup_share_up")).toBe(0);
    expect(existsSync(join(check.textfile, "gitlab_backup.prom"))).toBe(false);
  }, 60_000);
});
