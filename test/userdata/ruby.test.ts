import { describe, expect, it } from "vitest";
import { RubyExpression, rubyAssignment, rubyString, toRuby } from "../../userdata/ruby";

describe("Ruby literal serializer", () => {
  it("escapes backslashes and single quotes in strings", () => {
    expect(rubyString("it's")).toBe("'it\\'s'");
    expect(rubyString("C:\\path")).toBe("'C:\\\\path'");
    expect(rubyString("#{`rm -rf /`}")).toBe("'#{`rm -rf /`}'");
  });

  it("writes scalars, nil and booleans", () => {
    expect(toRuby(null)).toBe("nil");
    expect(toRuby(true)).toBe("true");
    expect(toRuby(false)).toBe("false");
    expect(toRuby(42)).toBe("42");
    expect(() => toRuby(Number.NaN)).toThrow(/cannot write NaN/);
  });

  it("writes hashes with sorted keys, skipping undefined, and nested arrays", () => {
    expect(toRuby({ b: 1, a: ["x", { d: true, c: undefined }] })).toBe("{\n  'a' => [\n    'x',\n    {\n      'd' => true\n    }\n  ],\n  'b' => 1\n}");
    expect(toRuby({})).toBe("{}");
    expect(toRuby([])).toBe("[]");
  });

  it("writes expressions only through the safe constructors", () => {
    expect(toRuby(RubyExpression.env("GITLAB_SMTP_PASSWORD"))).toBe("ENV.fetch('GITLAB_SMTP_PASSWORD')");
    expect(toRuby(RubyExpression.fileContents("/etc/gitlab/secrets.d/db_password"))).toBe("File.read('/etc/gitlab/secrets.d/db_password').strip");
    expect(() => RubyExpression.env("x'); system('id")).toThrow(/invalid environment variable name/);
    expect(() => RubyExpression.fileContents("relative/path")).toThrow(/invalid secret file path/);
  });

  it("writes one gitlab.rb assignment", () => {
    expect(rubyAssignment("gitlab_rails", "smtp_port", 587)).toBe("gitlab_rails['smtp_port'] = 587");
    expect(() => rubyAssignment("gitlab_rails']; system('id", "x", 1)).toThrow(/invalid gitlab.rb section/);
  });
});
