// Runs the real runner-token-sync.sh (as shipped in the user data) with the real AWS CLI
// against a local recorder: the timer's run that finds a new version of the token secret (the
// `<env>-gitlab` stack replaced its gitlab_user_runner) rewrites config.toml and has
// gitlab-runner reload it; one that finds the same version changes nothing; a bad version or
// a failed read leaves the running config alone. The token reaches config.toml and nowhere else.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { shippedScript } from "../helpers";
import { AWS_CLI, awsCliEnv, runAwsCliTests, runScript } from "../support/aws-cli";
import { AwsRecorder } from "../support/aws-recorder";

const SCRIPT = shippedScript("runner-token-sync.sh");
const SECRET = "staging-gitlab/runner-token";
const OLD = "glrt-t1_OldOldOldOldOldOldOld";
const NEW = "glrt-t1_NewNewNewNewNewNewNew";
const HUP = "systemctl kill --signal=SIGHUP --kill-whom=main gitlab-runner.service";

let root: string;
let recorder: AwsRecorder;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "token-sync-"));
  recorder = await new AwsRecorder().start();
});
afterEach(async () => {
  await recorder.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A runner host's tree (BOOTSTRAP_ROOT) with the template and bootstrap.env the user data writes. */
function host(): { tree: string; bin: string; actions: string; at: (p: string) => string } {
  const tree = join(root, "host");
  const at = (p: string) => join(tree, p);
  for (const dir of ["/etc/gitlab-runner-fleet", "/etc/gitlab-runner"]) mkdirSync(at(dir), { recursive: true });
  writeFileSync(at("/etc/gitlab-runner-fleet/bootstrap.env"), `AWS_REGION=eu-west-3\nTOKEN_SECRET_ID=${SECRET}\n`);
  writeFileSync(
    at("/etc/gitlab-runner/config.toml.template"),
    'concurrent = 2\n[[runners]]\nname = "staging-gitlab-runner-{hostname}"\ntoken = "@@RUNNER_TOKEN@@"\n',
  );
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(AWS_CLI, join(bin, "aws"));
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  writeFileSync(join(bin, "systemctl"), `#!/bin/sh\nprintf 'systemctl %s\\n' "$*" >> "$ACTIONS"\n`);
  chmodSync(join(bin, "systemctl"), 0o755);
  return { tree, bin, actions, at };
}

/** Runs the script (asynchronously: the recorder answers in this process). */
async function sync(h: ReturnType<typeof host>, ...args: string[]) {
  const before = recorder.requests.length;
  const { status, stdout, stderr } = await runScript(SCRIPT, args, {
    PATH: `${h.bin}:${process.env.PATH}`,
    ACTIONS: h.actions,
    BOOTSTRAP_ROOT: h.tree,
    ...awsCliEnv(recorder),
  });
  const output = stdout + stderr;
  const actions = readFileSync(h.actions, "utf8").trim().split("\n").filter(Boolean);
  writeFileSync(h.actions, "");
  return { status, output, actions, requests: recorder.requests.slice(before) };
}

describe.skipIf(!runAwsCliTests)("runner-token-sync (the timer's run)", () => {
  it("puts a new version of the secret into config.toml and has gitlab-runner reload it, once", async () => {
    const h = host();
    const config = h.at("/etc/gitlab-runner/config.toml");
    recorder.secrets.set(SECRET, OLD);
    // Boot: the bootstrap's run writes the first version, without a reload (the runner starts after it).
    const boot = await sync(h, "--wait");
    expect(boot.status, boot.output).toBe(0);
    expect(readFileSync(config, "utf8")).toContain(`token = "${OLD}"`);
    expect(boot.actions).toEqual([]);
    const firstVersion = readFileSync(h.at("/var/lib/runner-fleet/token-version"), "utf8").trim();

    // The same version: nothing to do, nothing said.
    const same = await sync(h);
    expect(same.status).toBe(0);
    expect(same.actions).toEqual([]);
    expect(same.output).toBe("");
    expect(same.requests.map((q) => [q.action, q.params])).toEqual([["GetSecretValue", { SecretId: SECRET }]]);

    // The -gitlab stack replaced the runner: a new version.
    recorder.secrets.set(SECRET, NEW);
    const rotated = await sync(h);
    expect(rotated.status, rotated.output).toBe(0);
    const text = readFileSync(config, "utf8");
    expect(text).toContain(`token = "${NEW}"`);
    expect(text).not.toContain(OLD);
    expect(text).toContain(`name = "staging-gitlab-runner-${hostname().split(".")[0]}"`);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(rotated.actions).toEqual([HUP]);
    expect(readFileSync(h.at("/var/lib/runner-fleet/token-version"), "utf8").trim()).not.toBe(firstVersion);
    expect(rotated.output).toMatch(/config\.toml has version \w+ of the runner token; gitlab-runner reloads it/);
    for (const text of [boot.output, rotated.output, rotated.actions.join("\n")]) {
      expect(text).not.toContain(OLD);
      expect(text).not.toContain(NEW);
    }
    expect(existsSync(h.at("/etc/gitlab-runner/token.tmp"))).toBe(false);

    // And only once.
    expect((await sync(h)).actions).toEqual([]);
  });

  it("keeps the running config when the new version is not a token, or the secret cannot be read", async () => {
    const h = host();
    const config = h.at("/etc/gitlab-runner/config.toml");
    recorder.secrets.set(SECRET, OLD);
    expect((await sync(h, "--wait")).status).toBe(0);

    recorder.secrets.set(SECRET, 'junk"; rm -rf /');
    const junk = await sync(h);
    expect(junk.status).not.toBe(0);
    expect(junk.output).toContain("is empty or not a token; config.toml unchanged");
    expect(junk.output).not.toContain("rm -rf");
    expect(readFileSync(config, "utf8")).toContain(`token = "${OLD}"`);
    expect(junk.actions).toEqual([]);

    recorder.fault = (q) => (q.action === "GetSecretValue" ? { code: "AccessDeniedException", message: "not authorized" } : undefined);
    const denied = await sync(h);
    expect(denied.status).not.toBe(0);
    expect(denied.output).toContain("could not read the runner token");
    expect(denied.output).toContain("the next run tries again");
    expect(readFileSync(config, "utf8")).toContain(`token = "${OLD}"`);
    expect(denied.actions).toEqual([]);
  });
});
