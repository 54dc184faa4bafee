// Runs the real gitlab-data-owners script (as shipped in the user data) against a scratch
// directory standing in for the data volume, with files really owned by other ids (chown):
// a blank volume, a volume written by the pinned accounts, one written before the ids were
// pinned (Omnibus' first free system ids), and adopting that one.
import { spawnSync } from "node:child_process";
import { chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OMNIBUS_ACCOUNTS, renderDataOwnersList } from "../../userdata/omnibus-accounts";
import { shippedScript } from "../helpers";

const SCRIPT = shippedScript("gitlab-data-owners.sh");
const id = (name: string) => OMNIBUS_ACCOUNTS.find((a) => a.name === name)!.id;
const [GIT, WWW, REDIS, PSQL, REGISTRY] = ["git", "gitlab-www", "gitlab-redis", "gitlab-psql", "registry"].map(id) as [number, number, number, number, number];
/** What Omnibus took on an image where these were the first free system ids. */
const OLD = { git: 998, www: 999, redis: 997, psql: 996, registry: 995 };

// chown to other ids needs root; the suite runs as root in CI and on the development machine.
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn("skipping gitlab-data-owners tests: they chown files to other ids, which needs root");

let root: string;
let data: string;
let list: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "data-owners-"));
  data = join(root, "volume");
  list = join(root, "data-owners.list");
  mkdirSync(data);
  writeFileSync(list, renderDataOwnersList());
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A file or directory on the volume, owned by uid:gid. */
function own(path: string, uid: number, gid: number, kind: "dir" | "file" = "dir"): void {
  const p = join(data, path);
  mkdirSync(kind === "dir" ? p : dirname(p), { recursive: true });
  if (kind === "file") writeFileSync(p, "x");
  chownSync(p, uid, gid);
}

/** A volume as Omnibus leaves it, with the given account ids. */
function gitlabVolume(ids: { git: number; www: number; redis: number; psql: number; registry: number }): void {
  own("git-data/repositories", ids.git, ids.git);
  own("git-data/repositories/@hashed/ab/cd/abcd.git/HEAD", ids.git, ids.git, "file");
  own("gitaly", ids.git, 0);
  own("gitlab-rails", ids.git, 0);
  own("redis", ids.redis, ids.git);
  own("redis/dump.rdb", ids.redis, ids.redis, "file");
  own("postgresql", ids.psql, ids.psql);
  own("postgresql/data", ids.psql, ids.psql);
  own("postgresql/data/base/16384/1259", ids.psql, ids.psql, "file");
  own("registry", ids.registry, ids.registry);
  own("nginx", 0, ids.www);
}

function run(mode: string) {
  const r = spawnSync("bash", [SCRIPT, mode], { encoding: "utf8", env: { PATH: process.env.PATH, DATA_DIR: data, OWNERS_LIST: list } });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const owner = (path: string) => {
  const s = lstatSync(join(data, path));
  return `${s.uid}:${s.gid}`;
};

describe.skipIf(!isRoot)("gitlab-data-owners check", () => {
  it("passes a blank volume (first boot) and one written by the pinned accounts", () => {
    expect(run("check").status).toBe(0);
    gitlabVolume({ git: GIT, www: WWW, redis: REDIS, psql: PSQL, registry: REGISTRY });
    const r = run("check");
    expect(r.status).toBe(0);
    expect(r.output).toContain("the data volume's owners match the pinned accounts");
  });

  it("refuses a volume whose files belong to other ids, naming each path, account and id", () => {
    gitlabVolume(OLD);
    const r = run("check");
    expect(r.status).toBe(1);
    expect(r.output).toContain(`${data}/git-data/repositories: uid is 998, but git:git's uid is pinned to ${GIT}`);
    expect(r.output).toContain(`${data}/postgresql/data: uid is 996, but gitlab-psql's uid is pinned to ${PSQL}`);
    expect(r.output).toContain(`${data}/nginx: gid is 999, but root:gitlab-www's gid is pinned to ${WWW}`);
    expect(r.output).toContain("refusing to start GitLab");
    expect(r.output).toContain("sudo /usr/local/sbin/gitlab-data-owners adopt");
  });

  it("refuses a single wrong owner among right ones (an extra system user shifted one id)", () => {
    gitlabVolume({ git: GIT, www: WWW, redis: REDIS, psql: PSQL, registry: REGISTRY });
    chownSync(join(data, "redis"), 61000, GIT);
    const r = run("check");
    expect(r.status).toBe(1);
    expect(r.output.split("\n").filter((l) => / is pinned to /.test(l))).toEqual([
      `gitlab-data-owners: ${data}/redis: uid is 61000, but gitlab-redis:git's uid is pinned to ${REDIS}`,
    ]);
  });
});

describe.skipIf(!isRoot)("gitlab-data-owners adopt", () => {
  it("re-owns every file of each old id to the pinned one, deep inside, links included, and then checks", () => {
    gitlabVolume(OLD);
    symlinkSync("HEAD", join(data, "git-data/repositories/@hashed/ab/cd/abcd.git/link"));
    chownSync(join(data, "git-data/repositories/@hashed/ab/cd/abcd.git"), OLD.git, OLD.git);
    lchown(join(data, "git-data/repositories/@hashed/ab/cd/abcd.git/link"), OLD.git, OLD.git);
    // Not Omnibus' data: left alone.
    own("lost+found", 0, 0);
    const r = run("adopt");
    expect(r.output).toContain("the data volume's owners match the pinned accounts");
    expect(r.status).toBe(0);
    expect(owner("git-data/repositories/@hashed/ab/cd/abcd.git/HEAD")).toBe(`${GIT}:${GIT}`);
    expect(owner("git-data/repositories/@hashed/ab/cd/abcd.git/link")).toBe(`${GIT}:${GIT}`);
    expect(owner("postgresql/data/base/16384/1259")).toBe(`${PSQL}:${PSQL}`);
    expect(owner("redis/dump.rdb")).toBe(`${REDIS}:${REDIS}`);
    expect(owner("redis")).toBe(`${REDIS}:${GIT}`);
    expect(owner("nginx")).toBe(`0:${WWW}`);
    expect(owner("gitaly")).toBe(`${GIT}:0`);
    expect(owner("lost+found")).toBe("0:0");
    // The directory modes Omnibus set are kept (setgid on the repositories).
    chmodCheck();
    expect(run("check").status).toBe(0);
  });

  it("does nothing on a volume that already matches", () => {
    gitlabVolume({ git: GIT, www: WWW, redis: REDIS, psql: PSQL, registry: REGISTRY });
    const r = run("adopt");
    expect(r.status).toBe(0);
    expect(r.output).toContain("nothing to adopt");
  });

  it("refuses when one old id owned the paths of two accounts, changing nothing", () => {
    gitlabVolume({ ...OLD, redis: OLD.git });
    const r = run("adopt");
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/uid 998 owns paths of two accounts/);
    expect(owner("git-data/repositories")).toBe("998:998");
  });
});

function lchown(path: string, uid: number, gid: number): void {
  spawnSync("chown", ["-h", `${uid}:${gid}`, path]);
}

function chmodCheck(): void {
  // mkdir above made plain directories; set and re-check the setgid bit Omnibus uses.
  const repos = join(data, "git-data/repositories");
  spawnSync("chmod", ["2770", repos]);
  spawnSync("chown", [`${OLD.git}:${OLD.git}`, repos]);
  expect(run("adopt").status).toBe(0);
  expect(statSync(repos).mode & 0o7777).toBe(0o2770);
}
