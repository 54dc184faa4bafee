// Runs the runner containers' entry point exactly as they ship it (hostScript, uploaded
// verbatim) with a fake exec target standing in for the image's own entry point.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hostScript } from "../../userdata/host-scripts";

const TOKEN = "glrt-AbC_d.e-123";
const TEMPLATE = 'concurrent = 1\n[[runners]]\nname = "homelab-deploy-{hostname}"\ntoken = "@@RUNNER_TOKEN@@"\n';

// The script as the container gets it (constructs/runner-fleet/docker.ts uploads hostScript).
const script = join(mkdtempSync(join(tmpdir(), "entrypoint-")), "runner-entrypoint");
writeFileSync(script, hostScript("runner-entrypoint.sh"));
chmodSync(script, 0o755);

interface RunOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  /** What the token file holds; null: no file. */
  token?: string | null;
}

function run({ env = {}, args = ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"], token = `${TOKEN}\n` }: RunOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), "entrypoint-run-"));
  const tokenFile = join(dir, "runner_token_build");
  if (token !== null) writeFileSync(tokenFile, token, { mode: 0o600 });
  const bin = join(dir, "bin");
  const configDir = join(dir, "etc-gitlab-runner");
  mkdirSync(bin);
  mkdirSync(configDir);
  writeFileSync(join(configDir, "config.toml.template"), TEMPLATE);
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
      RUNNER_TOKEN_FILE: tokenFile,
      RUNNER_ENTRYPOINT_CONFIG_DIR: configDir,
      RUNNER_ENTRYPOINT_EXEC: `${bin}/fake-entrypoint --marker`,
      ...env,
    },
  });
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : undefined);
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    exec: read(execLog)?.split("\n").filter(Boolean),
    configPath: join(configDir, "config.toml"),
    config: read(join(configDir, "config.toml")),
  };
}

describe("runner-entrypoint.sh: config.toml and the hand-over", () => {
  it("writes config.toml with the token, readable by root only", () => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(r.config).toContain(`token = "${TOKEN}"\n`);
    expect(r.config).not.toContain("@@");
    expect(r.config).not.toContain("{hostname}");
    expect(statSync(r.configPath).mode & 0o777).toBe(0o600);
  });

  it("reads the token from its file, ignoring the trailing newline an editor adds", () => {
    expect(run({ token: `  ${TOKEN}\r\n` }).config).toContain(`token = "${TOKEN}"\n`);
    expect(run({ token: "pending\n" }).config).toContain('token = "pending"\n');
  });

  it("refuses a token with characters a runner token never has, writing nothing", () => {
    for (const token of ['glrt-x"; rm -rf /', "glrt-a|b", "glrt-a\u00e9"]) {
      const r = run({ token });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/runner_token_build holds characters a runner token never has/);
      expect(r.config).toBeUndefined();
      expect(r.exec).toBeUndefined();
    }
  });

  it("says what uploads the token when the token file is missing or empty, before starting the runner", () => {
    expect(run({ env: { RUNNER_TOKEN_FILE: undefined } }).stderr).toContain("RUNNER_TOKEN_FILE is not set");
    const missing = run({ token: null });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read the runner token from \S+runner_token_build: the `-gitlab` stack uploads it \(npm run deploy -- <env>\)/);
    expect(missing.exec).toBeUndefined();
    const empty = run({ token: "\n" });
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toMatch(/runner_token_build is empty/);
  });

  it("execs the image's entry point with the container's command, without the token in its environment", () => {
    const r = run({ args: ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab runner"] });
    expect(r.status, r.stderr).toBe(0);
    expect(r.exec).toEqual(["--marker", "run", "--user=gitlab-runner", "--working-directory=/home/gitlab runner", "RUNNER_TOKEN="]);
  });

  it("defaults to the image's paths and entry point", () => {
    const text = hostScript("runner-entrypoint.sh");
    expect(text).toContain('"${RUNNER_ENTRYPOINT_CONFIG_DIR:-/etc/gitlab-runner}"');
    expect(text).toContain('"${RUNNER_ENTRYPOINT_EXEC:-/usr/bin/dumb-init /entrypoint}"');
  });
});
