// Single sign-on and its break-glass rule (the reference homelab): the IdP is the gate, local admins keep
// passwords. Auto-linking an existing account to an IdP identity by e-mail is off: once linked,
// an account can no longer sign in with its password (disable_password_authentication_for_users_with_sso_identities),
// so an IdP user with the admin's e-mail would lock the break-glass admin out, or take the account over.
import { describe, expect, it } from "vitest";
import { checkRuby } from "../../scripts/verify/checkers";
import { hasTool, isStrict } from "../../scripts/verify/tools";
import { renderApplicationSettings } from "../../userdata/application-settings";
import { applicationSettings, omnibusSettings } from "../../stacks/omnibus-settings";
import { renderGitlabRb } from "../../userdata/gitlab-rb";
import { exampleYaml, problemsOf, validEnvironment } from "../helpers";

function gitlabRb(config: Record<string, any>): string {
  const env = validEnvironment(config, "homelab");
  return renderGitlabRb(
    omnibusSettings(env, {
      tls: { mode: "proxy", trustedProxies: ["172.30.0.254/32"] },
      monitoring: { whitelist: ["127.0.0.0/8"], exportersOnAllInterfaces: true },
      secretSource: (name) => ({ file: `/run/secrets/${name}` }),
      backupKeepSeconds: 86400,
    }),
  );
}

describe("SSO account linking", () => {
  it("does not link existing accounts to IdP identities by default, and lets SSO users in without approval", () => {
    const rb = gitlabRb(exampleYaml("homelab"));
    expect(rb).toContain("gitlab_rails['omniauth_auto_link_user'] = false");
    expect(rb).not.toMatch(/omniauth_auto_link_user'\] = \[/);
    expect(rb).toContain("gitlab_rails['omniauth_block_auto_created_users'] = false");
  });

  it("can hold new SSO accounts for an admin's approval", () => {
    const c = exampleYaml("homelab");
    c.gitlab.sso.blockAutoCreatedUsers = true;
    expect(gitlabRb(c)).toContain("gitlab_rails['omniauth_block_auto_created_users'] = true");
  });

  it("links by e-mail only when config asks, and then only with a break-glass admin whose e-mail no IdP user can have", () => {
    const c = exampleYaml("homelab");
    c.gitlab.sso.autoLinkUsers = true;
    expect(problemsOf(c, "homelab").join("\n")).toContain("gitlab.sso.breakGlassAdminEmail: required when autoLinkUsers is true");
    c.gitlab.sso.breakGlassAdminEmail = "root@example.com";
    expect(problemsOf(c, "homelab").join("\n")).toContain(
      "gitlab.sso.breakGlassAdminEmail: must be at a reserved domain no mailbox or IdP account can have (.invalid, .test, .localhost, .example)",
    );
    c.gitlab.sso.breakGlassAdminEmail = "break-glass@gitlab.invalid";
    expect(gitlabRb(c)).toContain("gitlab_rails['omniauth_auto_link_user'] = [\n  'openid_connect'\n]");
  });

  it("with auto-linking on, checks after every reconfigure that the break-glass admin has that e-mail and no IdP identity", () => {
    const c = exampleYaml("homelab");
    c.gitlab.sso.autoLinkUsers = true;
    c.gitlab.sso.breakGlassAdminEmail = "break-glass@gitlab.invalid";
    const script = renderApplicationSettings(applicationSettings(validEnvironment(c, "homelab"))) as string;
    expect(script).toContain("'break-glass@gitlab.invalid'");
    expect(script).toMatch(/identities/);
    expect(script).toMatch(/WARNING/);
    expect(renderApplicationSettings(applicationSettings(validEnvironment(exampleYaml("homelab"), "homelab")))).not.toMatch(/break-glass/);
  });

  it.skipIf(!isStrict() && !hasTool("ruby"))("the check is valid Ruby (ruby -c)", async () => {
    const c = exampleYaml("homelab");
    c.gitlab.sso.autoLinkUsers = true;
    c.gitlab.sso.breakGlassAdminEmail = "break-glass@gitlab.invalid";
    const script = renderApplicationSettings(applicationSettings(validEnvironment(c, "homelab"))) as string;
    expect(await checkRuby(script, "/etc/gitlab/application-settings.rb")).toMatchObject({ status: "ok" });
  });
});
