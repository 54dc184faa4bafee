// The automation token's Ruby: syntax by `ruby -c`, and its logic by running it under plain
// Ruby against a small in-memory stand-in of the GitLab models it calls (User,
// PersonalAccessToken, the settings), kept in a JSON file between runs so a test can let days
// pass: creation when there is none, nothing when the stored one is good, renewal near expiry
// with the old one revoked on the next run, rotation, a lost store write healing.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { AUTOMATION_TOKEN_DEFAULTS, renderAutomationTokenScript } from "../../userdata/automation-token";

const hasRuby = Boolean(findTool("ruby")) || isStrict();

// GitLab's models, as far as the script uses them. Tokens are kept with a digest of their
// value, as GitLab does; today is STUB_TODAY.
const STUB = String.raw`
require 'json'
require 'date'
require 'digest'
require 'securerandom'
STATE_FILE = ENV.fetch('STUB_STATE')
STATE = File.exist?(STATE_FILE) ? JSON.parse(File.read(STATE_FILE)) : { 'users' => [], 'tokens' => [], 'admin_mode' => false }
at_exit { File.write(STATE_FILE, JSON.pretty_generate(STATE)) }
class Date
  def self.current = Date.parse(ENV.fetch('STUB_TODAY'))
end
module Gitlab
  Config = Struct.new(:gitlab)
  def self.config = Config.new(Struct.new(:host).new('gitlab.example.com'))
  module CurrentSettings
    def self.admin_mode = STATE['admin_mode']
  end
end
module Organizations
  class Organization
    def self.default_organization = Struct.new(:id).new(1)
  end
end
class PersonalAccessToken
  attr_reader :row
  attr_accessor :token
  def initialize(row) = @row = row
  def self.column_names = %w[id user_id name organization_id]
  def self.find_by_token(value)
    row = STATE['tokens'].find { |t| t['digest'] == Digest::SHA256.hexdigest(value) }
    row && new(row)
  end
  def id = row['id']
  def user_id = row['user_id']
  def name = row['name']
  def scopes = row['scopes']
  def expires_at = Date.parse(row['expires_at'])
  def active? = !row['revoked'] && expires_at > Date.current
  def revoke! = row['revoked'] = true
end
class TokenRelation
  def initialize(user) = @user = user
  def active = Filtered.new(all.select(&:active?))
  def all = STATE['tokens'].select { |t| t['user_id'] == @user.id }.map { |t| PersonalAccessToken.new(t) }
  def create!(attrs)
    value = "glpat-#{SecureRandom.hex(10)}"
    row = { 'id' => STATE['tokens'].size + 1, 'user_id' => @user.id, 'name' => attrs.fetch(:name), 'scopes' => attrs.fetch(:scopes),
            'expires_at' => attrs.fetch(:expires_at).iso8601, 'organization_id' => attrs[:organization_id], 'digest' => Digest::SHA256.hexdigest(value) }
    STATE['tokens'] << row
    PersonalAccessToken.new(row).tap { |t| t.token = value }
  end
  Filtered = Struct.new(:list) do
    def where(name:) = Filtered.new(list.select { |t| t.name == name })
    def to_a = list
  end
end
class User
  attr_accessor :password_automatically_set
  def initialize(attrs) = @row = attrs.transform_keys(&:to_s).merge('state' => 'active', 'confirmed' => false)
  def self.find_by_username(name)
    row = STATE['users'].find { |u| u['username'] == name }
    row && allocate.tap { |u| u.instance_variable_set(:@row, row) }
  end
  def id = @row['id']
  def admin? = @row['admin']
  def active? = @row['state'] == 'active'
  def state = @row['state']
  def update!(attrs) = @row.merge!(attrs.transform_keys(&:to_s))
  def assign_personal_namespace(org) = @row['namespace_organization'] = org.id
  def skip_confirmation! = @row['confirmed'] = true
  def save!
    @row['id'] = STATE['users'].size + 1
    @row['password_automatically_set'] = password_automatically_set
    @row.delete('password_confirmation')
    @row['password'] = @row['password'].to_s.length
    STATE['users'] << @row
  end
  def personal_access_tokens = TokenRelation.new(self)
end
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The new token, when one was written to AUTOMATION_TOKEN_OUT. */
  written?: string;
  writtenMode?: number;
}

interface State {
  users: Record<string, unknown>[];
  tokens: { id: number; name: string; scopes: string[]; expires_at: string; revoked?: boolean; organization_id: number | null; user_id: number }[];
  admin_mode: boolean;
}

let dir: string;
let script: string;
let stub: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "automation-token-"));
  script = join(dir, "automation-token.rb");
  stub = join(dir, "stub.rb");
  writeFileSync(script, renderAutomationTokenScript());
  writeFileSync(stub, STUB);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state = (): State => JSON.parse(readFileSync(join(dir, "state.json"), "utf8")) as State;
const setState = (s: State) => writeFileSync(join(dir, "state.json"), JSON.stringify(s));

/** Runs the script on `today` with `stored` in the store (undefined: no store file). */
function run(today: string, stored: string | undefined, extra: Record<string, string> = {}): Run {
  const storedFile = join(dir, "stored");
  const out = join(dir, "out");
  rmSync(out, { force: true });
  if (stored === undefined) rmSync(storedFile, { force: true });
  else writeFileSync(storedFile, `${stored}\n`);
  const r = spawnSync("ruby", ["-r", stub, script], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", STUB_STATE: join(dir, "state.json"), STUB_TODAY: today, AUTOMATION_TOKEN_STORED: storedFile, AUTOMATION_TOKEN_OUT: out, ...extra },
  });
  const written = existsSync(out) ? readFileSync(out, "utf8") : undefined;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ...(written !== undefined ? { written, writtenMode: statSync(out).mode & 0o777 } : {}) };
}

const live = (s: State, today: string) => s.tokens.filter((t) => !t.revoked && t.expires_at > today);

describe.skipIf(!hasRuby)("automation-token.rb", () => {
  it("is valid Ruby (ruby -c)", () => {
    expect(execFileSync("ruby", ["-c", script], { encoding: "utf8" })).toContain("Syntax OK");
  });

  it("first run: creates the admin bot user and a 90-day api token, written 0600 and nowhere else", () => {
    const r = run("2026-01-01", undefined);
    expect(r.status, r.stderr).toBe(0);
    expect(r.written).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(r.writtenMode).toBe(0o600);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toContain(r.written);
    expect(r.stderr).toContain("created the admin user gitlab-platform-automation");
    expect(r.stderr).toMatch(/created token 1 expiring on 2026-04-01 \(the store holds no token\)/);
    const s = state();
    expect(s.users).toEqual([
      expect.objectContaining({ username: "gitlab-platform-automation", admin: true, state: "active", confirmed: true, email: "gitlab-platform-automation@noreply.gitlab.example.com", password_automatically_set: true, namespace_organization: 1, password: 64 }),
    ]);
    expect(s.tokens).toEqual([expect.objectContaining({ id: 1, user_id: 1, name: "gitlab-platform-automation", scopes: ["api"], expires_at: "2026-04-01", organization_id: 1 })]);
  });

  it("with the stored token good for more than 30 days: creates nothing, writes nothing", () => {
    const token = run("2026-01-01", undefined).written!;
    for (const day of ["2026-01-02", "2026-03-01"]) {
      const r = run(day, token);
      expect(r.status, r.stderr).toBe(0);
      expect(r.written).toBeUndefined();
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

  it("AUTOMATION_TOKEN_OUT=- writes the token alone to stdout, and nothing when none was made", () => {
    const r = run("2026-01-01", undefined, { AUTOMATION_TOKEN_OUT: "-" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^glpat-[0-9a-f]{20}$/);
    const again = run("2026-01-02", r.stdout, { AUTOMATION_TOKEN_OUT: "-" });
    expect(again.stdout).toBe("");
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
