// A small in-memory stand-in of the GitLab models the automation token's Ruby calls (User,
// PersonalAccessToken, the settings), for running that script under plain Ruby: load it with
// `ruby --disable-gems -r <file>` (the script and the stand-in need only Ruby's standard
// library, and loading RubyGems is most of a plain ruby's start: 58 -> 11 ms of CPU). State
// lives in the JSON file STUB_STATE between runs, tokens as digests as GitLab keeps them;
// today is STUB_TODAY, so a test can let days pass.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const STUB = `
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
  def password=(value)
    @row['password'] = value
  end

  def organization_id=(value)
    @row['organization_id'] = value
  end

  def password_confirmation=(value)
    @row['password_confirmation'] = value
  end
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

/** The token a stand-in run's state holds, as the tests read it. */
export interface StubToken {
  readonly id: number;
  readonly user_id: number;
  readonly name: string;
  readonly scopes: string[];
  readonly expires_at: string;
  revoked?: boolean;
  readonly organization_id: number | null;
  /** SHA-256 of the token's value, as GitLab keeps it. */
  readonly digest: string;
}

/** The stand-in's state file. */
export interface StubState {
  users: Record<string, unknown>[];
  tokens: StubToken[];
  admin_mode: boolean;
}

/** Writes the stand-in into `dir` and returns its path (for `ruby -r`). */
export function writeGitLabModelsStub(dir: string): string {
  const path = join(dir, "gitlab-models-stub.rb");
  writeFileSync(path, STUB);
  return path;
}

/** Tokens of the state that are live on `today` (YYYY-MM-DD). */
export const liveTokens = (s: StubState, today: string) => s.tokens.filter((t) => !t.revoked && t.expires_at > today);
