// Runs the real gitlab-keep-identity script against temporary directories standing in for
// the data volume, /etc/gitlab and /etc/ssh: a first boot, a save, a replacement instance,
// and the volume that holds GitLab data but lost its secrets.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedScript } from "../helpers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Run as shipped in the user data (comments stripped).
const SCRIPT = shippedScript("gitlab-keep-identity.sh");
const SECRETS = '{"gitlab_rails":{"db_key_base":"0123abcd"}}\n';

interface Host {
  data: string;
  gitlabEtc: string;
  sshEtc: string;
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "keep-identity-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A fresh instance (empty /etc/gitlab, new SSH host keys) on the shared data volume. */
function instance(name: string, hostKey: string): Host {
  const host = { data: join(root, "volume"), gitlabEtc: join(root, name, "etc-gitlab"), sshEtc: join(root, name, "etc-ssh") };
  for (const dir of Object.values(host)) mkdirSync(dir, { recursive: true });
  writeFileSync(join(host.sshEtc, "ssh_host_ed25519_key"), `${hostKey}\n`, { mode: 0o600 });
  writeFileSync(join(host.sshEtc, "ssh_host_ed25519_key.pub"), `${hostKey}.pub\n`);
  return host;
}

function run(host: Host, mode: string) {
  const r = spawnSync("bash", [SCRIPT, mode], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, DATA_DIR: host.data, GITLAB_ETC: host.gitlabEtc, SSH_ETC: host.sshEtc },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** What `gitlab-ctl reconfigure` does that matters here: secrets and data on the volume. */
function reconfigure(host: Host, secrets = SECRETS): void {
  if (!existsSync(join(host.gitlabEtc, "gitlab-secrets.json"))) writeFileSync(join(host.gitlabEtc, "gitlab-secrets.json"), secrets);
  mkdirSync(join(host.data, "git-data", "repositories"), { recursive: true });
}

const keptDir = (host: Host) => join(host.data, "gitlab-platform-identity");

describe("gitlab-keep-identity", () => {
  it("lets GitLab generate its secrets on a blank volume, then keeps them root-only", () => {
    const first = instance("first", "first-host-key");
    expect(run(first, "restore")).toMatchObject({ status: 0, output: expect.stringContaining("first boot on this data volume") });
    expect(existsSync(join(first.gitlabEtc, "gitlab-secrets.json"))).toBe(false);
    reconfigure(first);
    expect(run(first, "save").status).toBe(0);
    expect(readFileSync(join(keptDir(first), "gitlab-secrets.json"), "utf8")).toBe(SECRETS);
    expect(statSync(join(keptDir(first), "gitlab-secrets.json")).mode & 0o777).toBe(0o600);
    expect(statSync(keptDir(first)).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(keptDir(first), "ssh", "ssh_host_ed25519_key"), "utf8")).toBe("first-host-key\n");
  });

  it("gives a replacement instance the same secrets and SSH host keys before reconfigure", () => {
    const first = instance("first", "first-host-key");
    run(first, "restore");
    reconfigure(first);
    run(first, "save");

    const second = instance("second", "new-host-key");
    const restored = run(second, "restore");
    expect(restored.status).toBe(0);
    expect(readFileSync(join(second.gitlabEtc, "gitlab-secrets.json"), "utf8")).toBe(SECRETS);
    expect(statSync(join(second.gitlabEtc, "gitlab-secrets.json")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(second.sshEtc, "ssh_host_ed25519_key"), "utf8")).toBe("first-host-key\n");
    expect(readFileSync(join(second.sshEtc, "ssh_host_ed25519_key.pub"), "utf8")).toBe("first-host-key.pub\n");
    // Reconfigure then finds the restored file and keeps it.
    reconfigure(second, '{"fresh":"would orphan the data"}\n');
    expect(readFileSync(join(second.gitlabEtc, "gitlab-secrets.json"), "utf8")).toBe(SECRETS);
  });

  it("refuses to go on when the volume holds GitLab data but its secrets were never kept", () => {
    const old = instance("old", "old-host-key");
    mkdirSync(join(old.data, "git-data", "repositories"), { recursive: true });
    const replacement = instance("replacement", "new-host-key");
    const r = run(replacement, "restore");
    expect(r.status).toBe(1);
    expect(r.output).toContain(`Put the instance's gitlab-secrets.json at ${keptDir(replacement)}/gitlab-secrets.json`);
    expect(r.output).toContain("backup bucket");
    expect(existsSync(join(replacement.gitlabEtc, "gitlab-secrets.json"))).toBe(false);
  });

  it("accepts a re-run on the instance that generated the secrets before they were saved", () => {
    const host = instance("only", "host-key");
    run(host, "restore");
    reconfigure(host);
    const again = run(host, "restore");
    expect(again).toMatchObject({ status: 0, output: expect.stringContaining("keeping this instance's own") });
    expect(readFileSync(join(host.gitlabEtc, "gitlab-secrets.json"), "utf8")).toBe(SECRETS);
  });

  it("fails a save without secrets, and an unknown mode", () => {
    const host = instance("only", "host-key");
    expect(run(host, "save")).toMatchObject({ status: 1, output: expect.stringContaining("no ") });
    expect(run(host, "backup").status).toBe(2);
  });
});
