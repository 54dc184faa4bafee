import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { findTool, run } from "../../../scripts/verify/tools";
import { RECEIVER, renderAlertmanagerConfig, type AlertmanagerReceiver } from "../../../userdata/monitoring/alertmanager-config";

const EMAIL: AlertmanagerReceiver = { email: { to: "ops@example.com", from: "alertmanager@example.com", smarthost: "smtp.example.com:587" } };
const EMAIL_AUTH: AlertmanagerReceiver = {
  email: { ...(EMAIL as any).email, auth: { username: "alertmanager@example.com", passwordFile: "/etc/alertmanager/secrets/smtp-password" } },
};
const WEBHOOK: AlertmanagerReceiver = { webhook: { urlFile: "/etc/alertmanager/secrets/webhook-url" } };

describe("alertmanager.yml", () => {
  it("sends every alert to the one receiver, grouped by alert and job", () => {
    const doc = parse(renderAlertmanagerConfig({ receiver: EMAIL }));
    expect(doc.route).toMatchObject({ receiver: RECEIVER, group_by: ["alertname", "job"], repeat_interval: "4h" });
    expect(doc.receivers).toHaveLength(1);
  });

  it("mails through the smarthost with TLS required and resolutions sent", () => {
    const doc = parse(renderAlertmanagerConfig({ receiver: EMAIL }));
    expect(doc.receivers[0].email_configs).toEqual([
      { to: "ops@example.com", from: "alertmanager@example.com", smarthost: "smtp.example.com:587", require_tls: true, send_resolved: true },
    ]);
  });

  it("logs in to the smarthost with a password read from a file, over TLS only", () => {
    const text = renderAlertmanagerConfig({ receiver: EMAIL_AUTH });
    expect(parse(text).receivers[0].email_configs).toEqual([
      {
        to: "ops@example.com",
        from: "alertmanager@example.com",
        smarthost: "smtp.example.com:587",
        auth_username: "alertmanager@example.com",
        auth_password_file: "/etc/alertmanager/secrets/smtp-password",
        require_tls: true,
        send_resolved: true,
      },
    ]);
    // Never the password itself, under any of Alertmanager's keys for it.
    expect(text).not.toMatch(/\bauth_(password|secret):/);
  });

  it("renders no login when none is configured", () => {
    expect(renderAlertmanagerConfig({ receiver: EMAIL })).not.toContain("auth_");
  });

  it("reads a webhook's URL from a file, so the URL (and its token) is never in the config", () => {
    const text = renderAlertmanagerConfig({ receiver: WEBHOOK });
    expect(parse(text).receivers[0].webhook_configs).toEqual([{ url_file: "/etc/alertmanager/secrets/webhook-url", send_resolved: true }]);
    expect(text).not.toMatch(/\burl:/);
  });

  it("lets a nearly full disk silence the same disk's low-space warning", () => {
    expect(parse(renderAlertmanagerConfig({ receiver: EMAIL })).inhibit_rules).toEqual([
      { source_matchers: ['alertname="GitLabDiskNearlyFull"'], target_matchers: ['alertname="GitLabDiskSpaceLow"'], equal: ["instance", "mountpoint"] },
    ]);
  });

  it("refuses a smarthost without a port and a relative url file", () => {
    expect(() => renderAlertmanagerConfig({ receiver: { email: { ...(EMAIL as any).email, smarthost: "smtp.example.com" } } })).toThrow("must be host:port");
    expect(() => renderAlertmanagerConfig({ receiver: { webhook: { urlFile: "secrets/url" } } })).toThrow("must be an absolute path");
    const relative = { email: { ...(EMAIL as any).email, auth: { username: "u", passwordFile: "smtp-password" } } };
    expect(() => renderAlertmanagerConfig({ receiver: relative })).toThrow("smtp password file 'smtp-password' must be an absolute path");
  });
});

const amtool = findTool("amtool");
const scratch = mkdtempSync(join(tmpdir(), "alertmanager-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function checkConfig(name: string, text: string) {
  const file = join(scratch, name);
  writeFileSync(file, text);
  const r = await run(amtool as string, ["check-config", file]);
  return { code: r.code, output: r.stdout + r.stderr };
}

/** amtool's version, e.g. [0, 25]. */
async function amtoolVersion(): Promise<[number, number]> {
  const r = await run(amtool as string, ["--version"]);
  const m = /version (\d+)\.(\d+)/.exec(r.stdout + r.stderr);
  return [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0)];
}

// Missing amtool skips on a laptop and fails in CI (CI=true), like npm run verify.
describe.runIf(amtool !== undefined || process.env.CI === "true")("amtool check-config", () => {
  it("accepts the e-mail receiver", async () => {
    expect(amtool, "amtool is missing: run scripts/install-validators.sh").toBeDefined();
    const r = await checkConfig("alertmanager-email.yml", renderAlertmanagerConfig({ receiver: EMAIL }));
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("accepts the e-mail receiver with a login (auth_password_file is known to amtool 0.25 too)", async () => {
    expect(amtool, "amtool is missing: run scripts/install-validators.sh").toBeDefined();
    const r = await checkConfig("alertmanager-email-auth.yml", renderAlertmanagerConfig({ receiver: EMAIL_AUTH }));
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
    // amtool rejects keys it does not know, so SUCCESS above is meaningful: a misspelt one fails.
    const typo = await checkConfig(
      "alertmanager-email-typo.yml",
      renderAlertmanagerConfig({ receiver: EMAIL_AUTH }).replace("auth_password_file:", "auth_passwd_file:"),
    );
    expect(typo.code).not.toBe(0);
    expect(typo.output).toContain("field auth_passwd_file not found");
  });

  it("accepts the webhook receiver (url_file needs Alertmanager ≥ 0.26)", async () => {
    expect(amtool, "amtool is missing: run scripts/install-validators.sh").toBeDefined();
    const text = renderAlertmanagerConfig({ receiver: WEBHOOK });
    const [major, minor] = await amtoolVersion();
    if (major > 0 || minor >= 26) {
      const r = await checkConfig("alertmanager-webhook.yml", text);
      expect(r.output).toContain("SUCCESS");
      expect(r.code).toBe(0);
      return;
    }
    // Debian bookworm's amtool 0.25 predates url_file (prometheus/alertmanager#3223, released in
    // 0.26; the image is v0.28.1). It must reject that one key and nothing else: with url_file
    // swapped for a placeholder url, the rest of the file is checked.
    const old = await checkConfig("alertmanager-webhook.yml", text);
    expect(old.output).toContain("field url_file not found");
    const r = await checkConfig("alertmanager-webhook-0.25.yml", text.replace(/url_file: \S+/, "url: http://url-file.invalid/"));
    expect(r.output).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });
});
