// The GitLab container's post-reconfigure script, run with bash as the image's wrapper runs it:
// the application settings, then the automation token into its file store, with the shipped
// gitlab-automation-token on PATH and a `gitlab-rails` that runs the code it is given under
// plain Ruby against the stand-in of GitLab's models.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { renderApplicationSettings } from "../../userdata/application-settings";
import { renderAutomationTokenScript } from "../../userdata/automation-token";
import { shippedScript } from "../helpers";
import { liveTokens, writeGitLabModelsStub, type StubState } from "../support/gitlab-models-stub";

const hasRuby = Boolean(findTool("ruby")) || isStrict();
const APPLY = shippedScript("gitlab-apply-settings.sh");

// Notes every call's argv; runs application settings code as a no-op, the token's under Ruby.
const FAKE_GITLAB_RAILS = `#!/bin/sh
printf 'gitlab-rails %s\\n' "$*" >> "$RAILS_LOG"
case "$2" in
  *ApplicationSetting*) [ -z "$FAIL_SETTINGS" ] ;;
  *) [ -z "$FAIL_TOKEN" ] || exit 5; exec ruby --disable-gems -r "$STUB_RB" -e "$2" ;;
esac
`;

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "apply-settings-"));
  mkdirSync(join(root, "bin"));
  writeFileSync(join(root, "bin", "gitlab-rails"), FAKE_GITLAB_RAILS);
  copyFileSync(shippedScript("gitlab-automation-token.sh"), join(root, "bin", "gitlab-automation-token"));
  for (const f of ["gitlab-rails", "gitlab-automation-token"]) chmodSync(join(root, "bin", f), 0o755);
  writeFileSync(join(root, "automation-token.rb"), renderAutomationTokenScript(), { mode: 0o600 });
  writeGitLabModelsStub(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const tokenFile = () => join(root, "etc-gitlab", "gitlab-platform", "automation-token");

function run(env: Record<string, string>) {
  const r = spawnSync("bash", [APPLY], {
    encoding: "utf8",
    env: {
      PATH: `${join(root, "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      TMPDIR: root,
      RAILS_LOG: join(root, "rails.log"),
      STUB_RB: join(root, "gitlab-models-stub.rb"),
      STUB_STATE: join(root, "state.json"),
      STUB_TODAY: "2026-01-01",
      APPLICATION_SETTINGS: join(root, "application-settings.rb"),
      AUTOMATION_TOKEN_SCRIPT: join(root, "automation-token.rb"),
      ...env,
    },
  });
  const calls = existsSync(join(root, "rails.log")) ? readFileSync(join(root, "rails.log"), "utf8") : "";
  return { ...r, calls };
}

describe.skipIf(!hasRuby)("gitlab-apply-settings.sh in the GitLab container", () => {
  it("applies the settings, given to gitlab-rails as code (its git user cannot read the root-only file), then stores the automation token", () => {
    const settings = renderApplicationSettings({ disablePasswordForSsoUsers: true })!;
    writeFileSync(join(root, "application-settings.rb"), settings, { mode: 0o600 });
    const r = run({ AUTOMATION_TOKEN_STORE: `file:${tokenFile()}` });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls.startsWith(`gitlab-rails runner ${settings}`)).toBe(true);
    expect(r.calls).not.toContain(join(root, "application-settings.rb"));
    expect(readFileSync(tokenFile(), "utf8")).toMatch(/^glpat-[0-9a-f]{20}$/);
    expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);
    expect(liveTokens(JSON.parse(readFileSync(join(root, "state.json"), "utf8")) as StubState, "2026-01-01")).toHaveLength(1);
  });

  it("ensures the token without application settings too", () => {
    const r = run({ AUTOMATION_TOKEN_STORE: `file:${tokenFile()}` });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("nothing to apply");
    expect(existsSync(tokenFile())).toBe(true);
  });

  it("a token that cannot be ensured warns and lets the container start (exit 0)", () => {
    const r = run({ AUTOMATION_TOKEN_STORE: `file:${tokenFile()}`, FAIL_TOKEN: "1" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("gitlab-apply-settings: WARNING the automation token could not be ensured (exit 5); the daily renewal retries");
    expect(r.stderr).toContain("gitlab-automation-token: FAILED at step: ensure the token in GitLab");
    expect(existsSync(tokenFile())).toBe(false);
  });

  it("does nothing about the token where no store is named (the EC2 bootstrap runs it itself)", () => {
    const r = run({});
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toBe("");
  });

  it("still fails when the settings cannot be applied", () => {
    writeFileSync(join(root, "application-settings.rb"), renderApplicationSettings({ disablePasswordForSsoUsers: true })!);
    const r = run({ FAIL_SETTINGS: "1", AUTOMATION_TOKEN_STORE: `file:${tokenFile()}` });
    expect(r.status).not.toBe(0);
    expect(existsSync(tokenFile())).toBe(false);
  });
});
