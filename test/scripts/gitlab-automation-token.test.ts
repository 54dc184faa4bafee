// Runs the shipped gitlab-automation-token.sh end to end: the rendered automation-token.rb
// runs under plain Ruby against the stand-in of GitLab's models (a `gitlab-rails` first on
// PATH runs `ruby -r <stand-in> -e <code>`, as `gitlab-rails runner <code>` would), and the
// real AWS CLI (/usr/bin/aws) sends its Secrets Manager requests to the local recorder. The
// tests assert the requests that arrive, the tokens GitLab then holds, and the file store.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
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
exec ruby --disable-gems -r "$STUB_RB" -e "$2"
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A test's own scratch root (gitlab-rails, the stub's state, the rendered script, TMPDIR),
 * AWS recorder and `aws` dir: the tests run concurrently, so nothing is shared.
 */
class Host {
  constructor(
    readonly root: string,
    readonly recorder: AwsRecorder,
    readonly awsBin: string,
  ) {}

  run(today: string, env: Record<string, string> = {}, args: string[] = []): Promise<Run> {
    const finalEnv: Record<string, string> = {
      ...awsCliEnv(this.recorder),
      PATH: `${join(this.root, "bin")}:${this.awsBin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      TMPDIR: join(this.root, "tmp"),
      STUB_RB: join(this.root, "gitlab-models-stub.rb"),
      STUB_STATE: join(this.root, "state.json"),
      STUB_TODAY: today,
      RAILS_LOG: join(this.root, "rails.log"),
      AUTOMATION_TOKEN_SCRIPT: join(this.root, "etc", "automation-token.rb"),
      AUTOMATION_TOKEN_STORE: `aws-secret:${SECRET}`,
      AWS_REGION: REGION,
      ...env,
    };
    return runScript(SCRIPT, args, finalEnv);
  }

  state(): StubState {
    return JSON.parse(readFileSync(join(this.root, "state.json"), "utf8")) as StubState;
  }

  stored(): string | undefined {
    return this.recorder.secrets.get(SECRET);
  }

  /** The live tokens GitLab holds on `today`, by id. */
  liveIds(today: string): number[] {
    return liveTokens(this.state(), today).map((t) => t.id);
  }

  /** The id of the token the store holds. */
  storedTokenId(): number | undefined {
    const value = this.stored();
    const rows = JSON.parse(readFileSync(join(this.root, "state.json"), "utf8")).tokens as { id: number; digest: string }[];
    return value === undefined ? undefined : rows.find((t) => t.digest === digest(value))?.id;
  }

  /** Every place the token could leak to: the script's output and gitlab-rails' argv. */
  expectNoLeak(r: Run, token: string | undefined): void {
    expect(token).toBeDefined();
    expect(`${r.stdout}${r.stderr}`).not.toContain(token!);
    expect(readFileSync(join(this.root, "rails.log"), "utf8")).not.toContain(token!);
    expect(readdirSync(join(this.root, "tmp"))).toEqual([]);
  }
}

/** A new Host, removed when the test finishes. */
async function host(t: TestContext): Promise<Host> {
  const root = mkdtempSync(join(tmpdir(), "automation-token-sh-"));
  const awsBin = awsCliBinDir();
  // vitest runs a test's onTestFinished callbacks last registered first, each awaited.
  t.onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  t.onTestFinished(() => rmSync(awsBin, { recursive: true, force: true }));
  for (const d of ["bin", "tmp", "etc"]) mkdirSync(join(root, d));
  writeFileSync(join(root, "bin", "gitlab-rails"), FAKE_GITLAB_RAILS);
  chmodSync(join(root, "bin", "gitlab-rails"), 0o755);
  writeFileSync(join(root, "etc", "automation-token.rb"), renderAutomationTokenScript(), { mode: 0o600 });
  writeGitLabModelsStub(root);
  const recorder = await new AwsRecorder().start();
  t.onTestFinished(() => recorder.stop());
  return new Host(root, recorder, awsBin);
}

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

describe.skipIf(!runAwsCliTests || !hasRuby)("gitlab-automation-token.sh with the Secrets Manager store", { concurrent: true }, () => {
  it("an empty secret (created by the stack without a value): makes a token and puts it as the secret's value", async (t) => {
    const h = await host(t);
    const r = await h.run("2026-01-01");
    expect(r.stdout).toContain("the store (aws-secret:staging-gitlab/automation-token) holds no token yet");
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(h.recorder.requests.map((q) => `${q.service} ${q.action}`)).toEqual(["secretsmanager DescribeSecret", "secretsmanager PutSecretValue"]);
    const put = h.recorder.calls("PutSecretValue")[0]!;
    expect(put.region).toBe(REGION);
    expect(put.params.SecretId).toBe(SECRET);
    expect(put.params.SecretString).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(h.storedTokenId()).toBe(1);
    expect(r.stdout).toContain("stored a new token in aws-secret:staging-gitlab/automation-token");
    h.expectNoLeak(r, h.stored());
  });

  it("a stored token that is still good: reads it, stores nothing, makes nothing", async (t) => {
    const h = await host(t);
    await h.run("2026-01-01");
    const before = h.recorder.requests.length;
    const r = await h.run("2026-02-01");
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(h.recorder.requests.slice(before).map((q) => q.action)).toEqual(["DescribeSecret", "GetSecretValue"]);
    expect(r.stdout).toContain("the stored token is still good; nothing stored");
    expect(h.liveIds("2026-02-01")).toEqual([1]);
    h.expectNoLeak(r, h.stored());
  });

  it("renewal: 30 days before expiry a new version is put; the run after revokes the old token", async (t) => {
    const h = await host(t);
    await h.run("2026-01-01");
    const first = h.stored();
    const renewal = await h.run("2026-03-03");
    expect(renewal.status, `${renewal.stdout}${renewal.stderr}`).toBe(0);
    expect(h.stored()).not.toBe(first);
    expect(h.storedTokenId()).toBe(2);
    expect(h.liveIds("2026-03-03")).toEqual([1, 2]);
    const next = await h.run("2026-03-04");
    expect(next.status, `${next.stdout}${next.stderr}`).toBe(0);
    expect(h.liveIds("2026-03-04")).toEqual([2]);
    expect(h.recorder.calls("PutSecretValue")).toHaveLength(2);
  });

  it("a failed store write fails the run without printing the token, and the next run heals it", async (t) => {
    const h = await host(t);
    await h.run("2026-01-01");
    h.recorder.failFirst("PutSecretValue", 1, {
      code: "AccessDeniedException",
      message: "not authorized to perform secretsmanager:PutSecretValue",
      status: 400,
    });
    const failed = await h.run("2026-03-03");
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/^\S+ gitlab-automation-token: FAILED at step: store the new token$/m);
    expect(h.storedTokenId()).toBe(1); // the old token is still stored, and still live
    expect(h.liveIds("2026-03-03")).toEqual([1, 2]);
    expect(readdirSync(join(h.root, "tmp"))).toEqual([]);
    const healed = await h.run("2026-03-04");
    expect(healed.status, `${healed.stdout}${healed.stderr}`).toBe(0);
    expect(h.storedTokenId()).toBe(3);
    expect(h.liveIds("2026-03-04")).toEqual([1, 3]);
  });

  it("--rotate: a new token even when the stored one is good, every other one revoked at once", async (t) => {
    const h = await host(t);
    await h.run("2026-01-01");
    const r = await h.run("2026-01-02", {}, ["--rotate"]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(h.storedTokenId()).toBe(2);
    expect(h.liveIds("2026-01-02")).toEqual([2]);
    h.expectNoLeak(r, h.stored());
  });

  it("Secrets Manager unreachable: fails before touching GitLab", async (t) => {
    const h = await host(t);
    h.recorder.fault = (q) =>
      q.action === "DescribeSecret" ? { code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." } : undefined;
    const r = await h.run("2026-01-01");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/FAILED at step: read the stored token$/m);
    expect(existsSync(join(h.root, "rails.log"))).toBe(false);
  });

  it.for<[Record<string, string>, string]>([
    [{ AUTOMATION_TOKEN_STORE: "" }, "AUTOMATION_TOKEN_STORE must be aws-secret:<name> or file:<path>"],
    [{ AUTOMATION_TOKEN_STORE: "vault:x" }, "AUTOMATION_TOKEN_STORE must be aws-secret:<name> or file:<path>"],
    [{ AUTOMATION_TOKEN_STORE: "aws-secret:" }, "AUTOMATION_TOKEN_STORE names no secret or file"],
    [{ AWS_REGION: "" }, "AWS_REGION is not set"],
    [{ AUTOMATION_TOKEN_STORE: "file:relative/path" }, "needs an absolute path"],
  ])("refuses to run with %o, doing nothing", async ([env, message], t) => {
    const h = await host(t);
    const r = await h.run("2026-01-01", env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(h.recorder.requests).toEqual([]);
    expect(existsSync(join(h.root, "rails.log"))).toBe(false);
  });
});

describe.skipIf(!hasRuby)("gitlab-automation-token.sh with the file store (the GitLab container)", { concurrent: true }, () => {
  const file = (h: Host) => join(h.root, "etc", "gitlab-platform", "automation-token");
  const fileStore = (h: Host) => ({ AUTOMATION_TOKEN_STORE: `file:${file(h)}` });

  it("writes the token to a 0600 file in a 0700 directory it creates, then leaves a good one alone", async (t) => {
    const h = await host(t);
    const r = await h.run("2026-01-01", fileStore(h));
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const token = readFileSync(file(h), "utf8");
    expect(token).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(statSync(file(h)).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.root, "etc", "gitlab-platform")).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(h.root, "etc", "gitlab-platform"))).toEqual(["automation-token"]);
    h.expectNoLeak(r, token);

    const again = await h.run("2026-02-01", fileStore(h));
    expect(again.status, `${again.stdout}${again.stderr}`).toBe(0);
    expect(readFileSync(file(h), "utf8")).toBe(token);
    expect(h.liveIds("2026-02-01")).toEqual([1]);
  });

  it("a deleted file means a new token, and the others revoked", async (t) => {
    const h = await host(t);
    await h.run("2026-01-01", fileStore(h));
    rmSync(file(h));
    const r = await h.run("2026-01-02", fileStore(h));
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(h.state().tokens.find((token) => !token.revoked)?.id).toBe(2);
    expect(digest(readFileSync(file(h), "utf8"))).toBe(
      (JSON.parse(readFileSync(join(h.root, "state.json"), "utf8")).tokens as { digest: string }[])[1]!.digest,
    );
  });

  it("--rotate replaces the file's token", async (t) => {
    const h = await host(t);
    await h.run("2026-01-01", fileStore(h));
    const before = readFileSync(file(h), "utf8");
    const r = await h.run("2026-01-02", fileStore(h), ["--rotate"]);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(readFileSync(file(h), "utf8")).not.toBe(before);
    expect(h.liveIds("2026-01-02")).toEqual([2]);
  });
});

describe("gitlab-automation-token.sh as shipped", { concurrent: true }, () => {
  it("passes shellcheck", async () => {
    if (!findTool("shellcheck") && !isStrict()) return;
    const result = await checkShell(compactScript("gitlab-automation-token.sh"), "gitlab-automation-token.sh");
    expect(result.findings).toEqual([]);
  });
});
