// Runs the shipped gitlab-automation-token.sh end to end: the rendered automation-token.rb
// runs under plain Ruby against the stand-in of GitLab's models (a `gitlab-rails` first on
// PATH runs `ruby -r <stand-in> -e <code>`, as `gitlab-rails runner <code>` would), and the
// real AWS CLI (/usr/bin/aws) sends its Secrets Manager requests to the local recorder. The
// tests assert the requests that arrive, the tokens GitLab then holds, and the file store.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkShell } from "../../scripts/verify/checkers";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { renderAutomationTokenScript } from "../../userdata/automation-token";
import { compactScript } from "../../userdata/host-scripts";
import { shippedScript } from "../helpers";
import { awsCliBinDir, awsCliEnv, runAwsCliTests, runScript } from "../support/aws-cli";
import { AwsRecorder } from "../support/aws-recorder";
import { liveTokens, writeGitLabModelsStub, type StubState } from "../support/gitlab-models-stub";

const SCRIPT = shippedScript("gitlab-automation-token.sh");
const SECRET = "staging-gitlab/automation-token";
const REGION = "eu-central-1";
const hasRuby = Boolean(findTool("ruby")) || isStrict();

// gitlab-rails as the script calls it: `gitlab-rails runner <code>`; notes its argv.
const FAKE_GITLAB_RAILS = `#!/bin/sh
printf '%s\\n' "$*" >> "$RAILS_LOG"
[ "$1" = runner ] || { echo "fake gitlab-rails: only runner" >&2; exit 64; }
exec ruby -r "$STUB_RB" -e "$2"
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let root: string;
let recorder: AwsRecorder;
let awsBin: string;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "automation-token-sh-"));
  for (const d of ["bin", "tmp", "etc"]) mkdirSync(join(root, d));
  writeFileSync(join(root, "bin", "gitlab-rails"), FAKE_GITLAB_RAILS);
  chmodSync(join(root, "bin", "gitlab-rails"), 0o755);
  writeFileSync(join(root, "etc", "automation-token.rb"), renderAutomationTokenScript(), { mode: 0o600 });
  writeGitLabModelsStub(root);
  recorder = await new AwsRecorder().start();
  awsBin = awsCliBinDir();
});

afterEach(async () => {
  await recorder.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(awsBin, { recursive: true, force: true });
});

async function run(today: string, env: Record<string, string> = {}, args: string[] = []): Promise<Run> {
  const finalEnv: Record<string, string> = {
    ...awsCliEnv(recorder),
    PATH: `${join(root, "bin")}:${awsBin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    TMPDIR: join(root, "tmp"),
    STUB_RB: join(root, "gitlab-models-stub.rb"),
    STUB_STATE: join(root, "state.json"),
    STUB_TODAY: today,
    RAILS_LOG: join(root, "rails.log"),
    AUTOMATION_TOKEN_SCRIPT: join(root, "etc", "automation-token.rb"),
    AUTOMATION_TOKEN_STORE: `aws-secret:${SECRET}`,
    AWS_REGION: REGION,
    ...env,
  };
  return runScript(SCRIPT, args, finalEnv);
}

const state = (): StubState => JSON.parse(readFileSync(join(root, "state.json"), "utf8")) as StubState;
const digest = (token: string) => createHash("sha256").update(token).digest("hex");
const stored = () => recorder.secrets.get(SECRET);
/** The live tokens GitLab holds on `today`, by id, and whether the stored value is one of them. */
function liveIds(today: string): number[] {
  return liveTokens(state(), today).map((t) => t.id);
}
function storedTokenId(): number | undefined {
  const value = stored();
  const rows = JSON.parse(readFileSync(join(root, "state.json"), "utf8")).tokens as { id: number; digest: string }[];
  return value === undefined ? undefined : rows.find((t) => t.digest === digest(value))?.id;
}
/** Every place the token could leak to: the script's output and gitlab-rails' argv. */
function expectNoLeak(r: Run, token: string | undefined): void {
  expect(token).toBeDefined();
  expect(`${r.stdout}${r.stderr}`).not.toContain(token!);
  expect(readFileSync(join(root, "rails.log"), "utf8")).not.toContain(token!);
  expect(readdirSync(join(root, "tmp"))).toEqual([]);
}

describe.skipIf(!runAwsCliTests || !hasRuby)("gitlab-automation-token.sh with the Secrets Manager store", () => {
  it("an empty secret (created by the stack without a value): makes a token and puts it as the secret's value", async () => {
    const r = await run("2026-01-01");
    expect(r.stdout).toContain("the store (aws-secret:staging-gitlab/automation-token) holds no token yet");
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(recorder.requests.map((q) => `${q.service} ${q.action}`)).toEqual(["secretsmanager DescribeSecret", "secretsmanager PutSecretValue"]);
    const put = recorder.calls("PutSecretValue")[0]!;
    expect(put.region).toBe(REGION);
    expect(put.params.SecretId).toBe(SECRET);
    expect(put.params.SecretString).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(storedTokenId()).toBe(1);
    expect(r.stdout).toContain("stored a new token in aws-secret:staging-gitlab/automation-token");
    expectNoLeak(r, stored());
  });

  it("a stored token that is still good: reads it, stores nothing, makes nothing", async () => {
    await run("2026-01-01");
    const before = recorder.requests.length;
    const r = await run("2026-02-01");
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(recorder.requests.slice(before).map((q) => q.action)).toEqual(["DescribeSecret", "GetSecretValue"]);
    expect(r.stdout).toContain("the stored token is still good; nothing stored");
    expect(liveIds("2026-02-01")).toEqual([1]);
    expectNoLeak(r, stored());
  });

  it("renewal: 30 days before expiry a new version is put; the run after revokes the old token", async () => {
    await run("2026-01-01");
    const first = stored();
    const renewal = await run("2026-03-03");
    expect(renewal.status, `${renewal.stdout}${renewal.stderr}`).toBe(0);
    expect(stored()).not.toBe(first);
    expect(storedTokenId()).toBe(2);
    expect(liveIds("2026-03-03")).toEqual([1, 2]);
    const next = await run("2026-03-04");
    expect(next.status, `${next.stdout}${next.stderr}`).toBe(0);
    expect(liveIds("2026-03-04")).toEqual([2]);
    expect(recorder.calls("PutSecretValue")).toHaveLength(2);
  });

  it("a failed store write fails the run without printing the token, and the next run heals it", async () => {
    await run("2026-01-01");
    recorder.failFirst("PutSecretValue", 1, { code: "AccessDeniedException", message: "not authorized to perform secretsmanager:PutSecretValue", status: 400 });
    const failed = await run("2026-03-03");
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/^\S+ gitlab-automation-token: FAILED at step: store the new token$/m);
    expect(storedTokenId()).toBe(1); // the old token is still stored, and still live
    expect(liveIds("2026-03-03")).toEqual([1, 2]);
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
    const healed = await run("2026-03-04");
    expect(healed.status, `${healed.stdout}${healed.stderr}`).toBe(0);
    expect(storedTokenId()).toBe(3);
    expect(liveIds("2026-03-04")).toEqual([1, 3]);
  });

  it("--rotate: a new token even when the stored one is good, every other one revoked at once", async () => {
    await run("2026-01-01");
    const r = await run("2026-01-02", {}, ["--rotate"]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(storedTokenId()).toBe(2);
    expect(liveIds("2026-01-02")).toEqual([2]);
    expectNoLeak(r, stored());
  });

  it("Secrets Manager unreachable: fails before touching GitLab", async () => {
    recorder.fault = (q) =>
      q.action === "DescribeSecret" ? { code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." } : undefined;
    const r = await run("2026-01-01");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/FAILED at step: read the stored token$/m);
    expect(existsSync(join(root, "rails.log"))).toBe(false);
  });

  it.each([
    [{ AUTOMATION_TOKEN_STORE: "" }, "AUTOMATION_TOKEN_STORE must be aws-secret:<name> or file:<path>"],
    [{ AUTOMATION_TOKEN_STORE: "vault:x" }, "AUTOMATION_TOKEN_STORE must be aws-secret:<name> or file:<path>"],
    [{ AUTOMATION_TOKEN_STORE: "aws-secret:" }, "AUTOMATION_TOKEN_STORE names no secret or file"],
    [{ AWS_REGION: "" }, "AWS_REGION is not set"],
    [{ AUTOMATION_TOKEN_STORE: "file:relative/path" }, "needs an absolute path"],
  ])("refuses to run with %o, doing nothing", async (env, message) => {
    const r = await run("2026-01-01", env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(recorder.requests).toEqual([]);
    expect(existsSync(join(root, "rails.log"))).toBe(false);
  });
});

describe.skipIf(!hasRuby)("gitlab-automation-token.sh with the file store (the GitLab container)", () => {
  const file = () => join(root, "etc", "gitlab-platform", "automation-token");
  const fileStore = () => ({ AUTOMATION_TOKEN_STORE: `file:${file()}` });

  it("writes the token to a 0600 file in a 0700 directory it creates, then leaves a good one alone", async () => {
    const r = await run("2026-01-01", fileStore());
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const token = readFileSync(file(), "utf8");
    expect(token).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, "etc", "gitlab-platform")).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(root, "etc", "gitlab-platform"))).toEqual(["automation-token"]);
    expectNoLeak(r, token);

    const again = await run("2026-02-01", fileStore());
    expect(again.status, `${again.stdout}${again.stderr}`).toBe(0);
    expect(readFileSync(file(), "utf8")).toBe(token);
    expect(liveIds("2026-02-01")).toEqual([1]);
  });

  it("a deleted file means a new token, and the others revoked", async () => {
    await run("2026-01-01", fileStore());
    rmSync(file());
    const r = await run("2026-01-02", fileStore());
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(state().tokens.find((t) => !t.revoked)?.id).toBe(2);
    expect(digest(readFileSync(file(), "utf8"))).toBe((JSON.parse(readFileSync(join(root, "state.json"), "utf8")).tokens as { digest: string }[])[1]!.digest);
  });

  it("--rotate replaces the file's token", async () => {
    await run("2026-01-01", fileStore());
    const before = readFileSync(file(), "utf8");
    const r = await run("2026-01-02", fileStore(), ["--rotate"]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(readFileSync(file(), "utf8")).not.toBe(before);
    expect(liveIds("2026-01-02")).toEqual([2]);
  });
});

describe("gitlab-automation-token.sh as shipped", () => {
  it("passes shellcheck", async () => {
    if (!findTool("shellcheck") && !isStrict()) return;
    const result = await checkShell(compactScript("gitlab-automation-token.sh"), "gitlab-automation-token.sh");
    expect(result.findings).toEqual([]);
  });
});
