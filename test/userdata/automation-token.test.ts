// The automation token's Ruby: syntax by `ruby -c`, and its logic by running it under plain
// Ruby against a small in-memory stand-in of the GitLab models it calls (User,
// PersonalAccessToken, the settings), kept in a JSON file between runs so a test can let days
// pass: creation when there is none, nothing when the stored one is good, renewal near expiry
// with the old one revoked on the next run, rotation, a lost store write healing.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { AUTOMATION_TOKEN_DEFAULTS, AUTOMATION_TOKEN_LINE_PREFIX, renderAutomationTokenScript } from "../../userdata/automation-token";
import { liveTokens, writeGitLabModelsStub, type StubState } from "../support/gitlab-models-stub";

const hasRuby = Boolean(findTool("ruby")) || isStrict();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The new token, from its stdout line, when one was created. */
  written?: string;
}

let dir: string;
let script: string;
let stub: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "automation-token-"));
  script = join(dir, "automation-token.rb");
  writeFileSync(script, renderAutomationTokenScript());
  stub = writeGitLabModelsStub(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state = (): StubState => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as StubState;
const setState = (s: StubState) => writeFileSync(join(dir, "state.json"), JSON.stringify(s));
const live = liveTokens;

/**
 * Runs the script on `today` with `stored` in the store (undefined: the variable unset), the
 * way gitlab-rails runner gets it: its text as the code argument.
 */
function run(today: string, stored: string | undefined, extra: Record<string, string> = {}): Run {
  const r = spawnSync("ruby", ["--disable-gems", "-r", stub, "-e", readFileSync(script, "utf8")], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      STUB_STATE: join(dir, "state.json"),
      STUB_TODAY: today,
      ...(stored !== undefined ? { AUTOMATION_TOKEN_STORED: stored } : {}),
      ...extra,
    },
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith(AUTOMATION_TOKEN_LINE_PREFIX));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ...(line ? { written: line.slice(AUTOMATION_TOKEN_LINE_PREFIX.length) } : {}) };
}

describe.skipIf(!hasRuby)("automation-token.rb", () => {
  it("is valid Ruby (ruby -c)", () => {
    expect(execFileSync("ruby", ["-c", script], { encoding: "utf8" })).toContain("Syntax OK");
  });

  it("first run: creates the admin bot user and a 90-day api token, printed once on its own stdout line and nowhere else", () => {
    const r = run("2026-01-01", undefined);
    expect(r.status, r.stderr).toBe(0);
    expect(r.written).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(r.stdout).toBe(`automation-token ${r.written}\n`);
    expect(r.stderr).not.toContain(r.written);
    expect(r.stderr).toContain("created the admin user gitlab-platform-automation");
    expect(r.stderr).toMatch(/created token 1 expiring on 2026-04-01 \(the store holds no token\)/);
    const s = state();
    expect(s.users).toEqual([
      expect.objectContaining({
        username: "gitlab-platform-automation",
        admin: true,
        state: "active",
        confirmed: true,
        email: "gitlab-platform-automation@noreply.gitlab.example.com",
        password_automatically_set: true,
        namespace_organization: 1,
        organization_id: 1,
        password: 64,
      }),
    ]);
    expect(s.tokens).toEqual([
      expect.objectContaining({ id: 1, user_id: 1, name: "gitlab-platform-automation", scopes: ["api"], expires_at: "2026-04-01", organization_id: 1 }),
    ]);
  });

  it("with the stored token good for more than 30 days: creates nothing, writes nothing", () => {
    const token = run("2026-01-01", undefined).written!;
    for (const day of ["2026-01-02", "2026-03-01"]) {
      const r = run(day, token);
      expect(r.status, r.stderr).toBe(0);
      expect(r.written).toBeUndefined();
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("the stored token is valid until 2026-04-01; nothing to do");
    }
    expect(state().tokens).toHaveLength(1);
    expect(state().users).toHaveLength(1);
  });

  it("30 days or fewer left: a new token; the stored one keeps working until the next run finds the new one stored, then is revoked", () => {
    const first = run("2026-01-01", undefined).written!;
    const renewed = run("2026-03-02", first);
    expect(renewed.status, renewed.stderr).toBe(0);
    expect(renewed.written).toMatch(/^glpat-/);
    expect(renewed.written).not.toBe(first);
    expect(renewed.stderr).toContain("created token 2 expiring on 2026-05-31 (the stored token expires on 2026-04-01)");
    expect(live(state(), "2026-03-02").map((t) => t.id)).toEqual([1, 2]);

    const next = run("2026-03-03", renewed.written);
    expect(next.written).toBeUndefined();
    expect(next.stderr).toContain("revoked the replaced token 1");
    expect(live(state(), "2026-03-03").map((t) => t.id)).toEqual([2]);
  });

  it("a store write that was lost heals: the next run, seeing the old token still stored, makes another and revokes the unstored one", () => {
    const first = run("2026-01-01", undefined).written!;
    run("2026-03-02", first); // the new token never reached the store
    const again = run("2026-03-03", first);
    expect(again.written).toMatch(/^glpat-/);
    expect(live(state(), "2026-03-03").map((t) => t.id)).toEqual([1, 3]);
  });

  it("an empty store makes a new token and revokes every other one (their values are lost)", () => {
    run("2026-01-01", undefined);
    const r = run("2026-01-05", "");
    expect(r.written).toMatch(/^glpat-/);
    expect(r.stderr).toContain("(the store holds no token)");
    expect(live(state(), "2026-01-05").map((t) => t.id)).toEqual([2]);
  });

  it("a stored token that is revoked, expired, someone else's or unknown is replaced", () => {
    const first = run("2026-01-01", undefined).written!;
    const s = state();
    s.tokens[0]!.revoked = true;
    setState(s);
    const r = run("2026-01-02", first);
    expect(r.written).toMatch(/^glpat-/);
    expect(r.stderr).toContain("the stored token is not a live token of gitlab-platform-automation");
    const unknown = run("2026-01-03", "glpat-not-a-real-token");
    expect(unknown.written).toMatch(/^glpat-/);
    expect(live(state(), "2026-01-03").map((t) => t.id)).toEqual([3]);
  });

  it("AUTOMATION_TOKEN_ROTATE=1: a new token even when the stored one is good, and the stored one revoked at once", () => {
    const first = run("2026-01-01", undefined).written!;
    const r = run("2026-01-02", first, { AUTOMATION_TOKEN_ROTATE: "1" });
    expect(r.written).toMatch(/^glpat-/);
    expect(r.stderr).toContain("(rotation was asked for)");
    expect(live(state(), "2026-01-02").map((t) => t.id)).toEqual([2]);
  });

  it("asks for admin_mode too when the instance enforces admin mode, and renews a token without it", () => {
    const first = run("2026-01-01", undefined).written!;
    const s = state();
    s.admin_mode = true;
    setState(s);
    const r = run("2026-01-02", first);
    expect(r.stderr).toContain("the stored token lacks the scopes admin_mode");
    expect(state().tokens.at(-1)!.scopes).toEqual(["api", "admin_mode"]);
  });

  it("never unblocks a blocked bot user: fails, and creates no token", () => {
    run("2026-01-01", undefined);
    const s = state();
    s.users[0]!.state = "blocked";
    setState(s);
    const r = run("2026-01-02", "", {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("the user gitlab-platform-automation is blocked: unblock it or delete it, then run again");
    expect(r.written).toBeUndefined();
    expect(state().tokens).toHaveLength(1);
  });

  it("puts the settings into the script and refuses impossible ones", () => {
    const text = renderAutomationTokenScript({ expiryDays: 30, renewDays: 7, username: "automation-bot" });
    expect(text).toContain("EXPIRY_DAYS = 30\nRENEW_DAYS = 7");
    expect(text).toContain("USERNAME = 'automation-bot'");
    expect(text).toContain(`TOKEN_NAME = '${AUTOMATION_TOKEN_DEFAULTS.tokenName}'`);
    expect(() => renderAutomationTokenScript({ expiryDays: 400 })).toThrow(/expiryDays must be a whole number from 2 to 365/);
    expect(() => renderAutomationTokenScript({ renewDays: 90 })).toThrow(/renewDays must be a whole number from 1 to expiryDays - 1/);
    expect(() => renderAutomationTokenScript({ username: "Bad Name'" })).toThrow(/username 'Bad Name'' must be/);
  });
});
