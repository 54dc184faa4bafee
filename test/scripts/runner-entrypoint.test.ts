// Runs the runner containers' entry point exactly as they ship it (hostScript, uploaded
// verbatim) with a fake busybox `addgroup` that records its calls and edits a group file,
// a real unix socket standing in for the host's Docker socket, and a fake exec target.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostScript } from "../../userdata/host-scripts";

const TOKEN = "glrt-AbC_d.e-123";
const TEMPLATE = 'concurrent = 1\n[[runners]]\nname = "homelab-deploy-{hostname}"\ntoken = "@@RUNNER_TOKEN@@"\n';

// The script as the container gets it (constructs/runner-fleet/docker.ts uploads hostScript).
const script = join(mkdtempSync(join(tmpdir(), "entrypoint-")), "runner-entrypoint");
writeFileSync(script, hostScript("runner-entrypoint.sh"));
chmodSync(script, 0o755);

const socketDir = mkdtempSync(join(tmpdir(), "sock-"));
const socketPath = join(socketDir, "docker.sock");
let server: Server;
let socketGid: number;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  socketGid = statSync(socketPath).gid;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface RunOptions {
  groups: string;
  env?: Record<string, string | undefined>;
  args?: string[];
}

function run({ groups, env = {}, args = ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"] }: RunOptions) {
  const dir = mkdtempSync(join(tmpdir(), "entrypoint-run-"));
  const bin = join(dir, "bin");
  const configDir = join(dir, "etc-gitlab-runner");
  mkdirSync(bin);
  mkdirSync(configDir);
  writeFileSync(join(configDir, "config.toml.template"), TEMPLATE);
  const groupFile = join(dir, "group");
  writeFileSync(groupFile, groups);
  const calls = join(dir, "addgroup.calls");
  // busybox addgroup: `addgroup -g GID GROUP` creates a group, `addgroup USER GROUP` adds a member.
  writeFileSync(
    join(bin, "addgroup"),
    `#!/bin/sh
printf '%s\\n' "$*" >> "${calls}"
if [ "$1" = -g ]; then echo "$3:x:$2:" >> "${groupFile}"; exit 0; fi
awk -F: -v OFS=: -v u="$1" -v g="$2" '$1 == g { $4 = ($4 == "" ? u : $4 "," u) } { print }' "${groupFile}" > "${groupFile}.new"
mv "${groupFile}.new" "${groupFile}"
`,
  );
  chmodSync(join(bin, "addgroup"), 0o755);
  const execLog = join(dir, "exec.log");
  writeFileSync(
    join(bin, "fake-entrypoint"),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${execLog}"\nprintf 'RUNNER_TOKEN=%s\\n' "\${RUNNER_TOKEN:-}" >> "${execLog}"\n`,
  );
  chmodSync(join(bin, "fake-entrypoint"), 0o755);

  const r = spawnSync("sh", [script, ...args], {
    encoding: "utf8",
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      RUNNER_TOKEN: TOKEN,
      RUNNER_ENTRYPOINT_CONFIG_DIR: configDir,
      RUNNER_ENTRYPOINT_DOCKER_SOCKET: socketPath,
      RUNNER_ENTRYPOINT_GROUP_FILE: groupFile,
      RUNNER_ENTRYPOINT_EXEC: `${bin}/fake-entrypoint --marker`,
      ...env,
    },
  });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : undefined);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    addgroup: (read(calls) ?? "").split("\n").filter(Boolean),
    groups: read(groupFile),
    exec: read(execLog)?.split("\n").filter(Boolean),
    configPath: join(configDir, "config.toml"),
    config: read(join(configDir, "config.toml")),
  };
}

const withSocket = { JOBS_USE_DOCKER_SOCKET: "1" };

describe("runner-entrypoint.sh: the deploy runner's jobs reach the host's Docker socket", () => {
  it("adds gitlab-runner to the group that already has the socket's gid", () => {
    const r = run({ groups: `something:x:${socketGid}:\ngitlab-runner:x:99999:\n`, env: withSocket });
    expect(r.status, r.stderr).toBe(0);
    expect(r.addgroup).toEqual(["gitlab-runner something"]);
    expect(r.groups).toContain(`something:x:${socketGid}:gitlab-runner\n`);
    expect(r.stdout).toContain(`gitlab-runner is in group something (gid ${socketGid})`);
  });

  it("creates a group with the socket's gid when the image has none, then adds gitlab-runner to it", () => {
    const r = run({ groups: "gitlab-runner:x:99999:\n", env: withSocket });
    expect(r.status, r.stderr).toBe(0);
    expect(r.addgroup).toEqual([`-g ${socketGid} docker-host`, "gitlab-runner docker-host"]);
    expect(r.groups).toContain(`docker-host:x:${socketGid}:gitlab-runner\n`);
  });

  it("does not clash with a docker-host group left with another gid (the host's docker gid changed)", () => {
    const r = run({ groups: "docker-host:x:99998:gitlab-runner\n", env: withSocket });
    expect(r.status, r.stderr).toBe(0);
    expect(r.addgroup).toEqual([`-g ${socketGid} docker-host-${socketGid}`, `gitlab-runner docker-host-${socketGid}`]);
  });

  it("changes nothing when gitlab-runner is already a member (a restarted container keeps /etc/group)", () => {
    const first = run({ groups: "gitlab-runner:x:99999:\n", env: withSocket });
    const r = run({ groups: first.groups!, env: withSocket });
    expect(r.status, r.stderr).toBe(0);
    expect(r.addgroup).toEqual([]);
    const alsoOthers = run({ groups: `docker-host:x:${socketGid}:alice,gitlab-runner,bob\n`, env: withSocket });
    expect(alsoOthers.addgroup).toEqual([]);
    const similarName = run({ groups: `docker-host:x:${socketGid}:gitlab-runner2\n`, env: withSocket });
    expect(similarName.addgroup).toEqual(["gitlab-runner docker-host"]);
  });

  it("leaves groups alone without the flag (the build runner: its jobs never get the socket)", () => {
    for (const flag of [undefined, "", "0"]) {
      const r = run({ groups: "gitlab-runner:x:99999:\n", env: { JOBS_USE_DOCKER_SOCKET: flag } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.addgroup).toEqual([]);
      expect(r.groups).toBe("gitlab-runner:x:99999:\n");
    }
  });

  it("fails clearly when the flag is set but no socket is mounted, before starting the runner", () => {
    const r = run({ groups: "", env: { ...withSocket, RUNNER_ENTRYPOINT_DOCKER_SOCKET: join(socketDir, "missing.sock") } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`JOBS_USE_DOCKER_SOCKET=1 but ${join(socketDir, "missing.sock")} is not a socket`);
    expect(r.addgroup).toEqual([]);
    expect(r.exec).toBeUndefined();
  });
});

describe("runner-entrypoint.sh: config.toml and the hand-over", () => {
  it("writes config.toml with the token, readable by root only", () => {
    const r = run({ groups: "" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.config).toContain(`token = "${TOKEN}"\n`);
    expect(r.config).not.toContain("@@");
    expect(r.config).not.toContain("{hostname}");
    expect(statSync(r.configPath).mode & 0o777).toBe(0o600);
  });

  it("refuses a token with characters a runner token never has, writing nothing", () => {
    for (const token of ['glrt-x"; rm -rf /', "glrt-a|b", "glrt a"]) {
      const r = run({ groups: "", env: { RUNNER_TOKEN: token } });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("RUNNER_TOKEN contains characters a runner token never has");
      expect(r.config).toBeUndefined();
      expect(r.exec).toBeUndefined();
    }
    expect(run({ groups: "", env: { RUNNER_TOKEN: undefined } }).stderr).toContain("RUNNER_TOKEN is not set");
  });

  it("execs the image's entry point with the container's command, without the token in its environment", () => {
    const r = run({ groups: "", env: withSocket, args: ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab runner"] });
    expect(r.status, r.stderr).toBe(0);
    expect(r.exec).toEqual(["--marker", "run", "--user=gitlab-runner", "--working-directory=/home/gitlab runner", "RUNNER_TOKEN="]);
  });

  it("defaults to the image's paths and entry point", () => {
    const text = hostScript("runner-entrypoint.sh");
    expect(text).toContain('"${RUNNER_ENTRYPOINT_CONFIG_DIR:-/etc/gitlab-runner}"');
    expect(text).toContain('"${RUNNER_ENTRYPOINT_DOCKER_SOCKET:-/var/run/docker.sock}"');
    expect(text).toContain('"${RUNNER_ENTRYPOINT_GROUP_FILE:-/etc/group}"');
    expect(text).toContain('"${RUNNER_ENTRYPOINT_EXEC:-/usr/bin/dumb-init /entrypoint}"');
  });
});
