// The automation token on aws, as the staging example synthesizes it: the empty secret the
// second stack reads by name, the server role's grant on exactly it, and what the server's
// user data carries to fill and renew it (bootstrap.env, the script, the Ruby, the timer).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { checkCalendar, checkSystemdUnits } from "../../scripts/verify/checkers";
import { findTool, isStrict } from "../../scripts/verify/tools";
import { renderAutomationTokenScript } from "../../userdata/automation-token";
import { compactScript } from "../../userdata/host-scripts";
import { exampleStack, onlyResource, resources, userDataText } from "../examples";

const stack = exampleStack("staging");
const instance = onlyResource(stack, "aws_instance");
const userData = parse(userDataText(instance));
const file = (path: string) => userData.write_files.find((f: any) => f.path === path) as { content: string; permissions: string } | undefined;
const SECRET_KEY = Object.keys(stack.resource.aws_secretsmanager_secret ?? {}).find((k) => k.startsWith("automation-token"));
const secretArn = `\${aws_secretsmanager_secret.${SECRET_KEY}.arn}`;
const policy = () => resources(stack, "aws_iam_role_policy").find((p) => p.name === "automation-token");

describe("the automation token on aws", () => {
  it("is a secret named <env>-gitlab/automation-token, created without a value, with a recovery window and the default key", () => {
    // Beside the runner token's secret, which the runners read.
    const secrets = resources(stack, "aws_secretsmanager_secret").filter((s) => s.name.endsWith("/automation-token"));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).toMatchObject({ name: "staging-gitlab/automation-token", recovery_window_in_days: 7 });
    expect(secrets[0].kms_key_id).toBeUndefined();
    // The value comes from the server, never from Terraform.
    expect(resources(stack, "aws_secretsmanager_secret_version")).toEqual([]);
    expect(JSON.stringify(stack.output)).not.toContain("automation-token");
  });

  it("the GitLab server's role may describe, read and put versions of exactly that secret", () => {
    const p = policy();
    expect(p).toBeDefined();
    const roleKey = Object.entries(stack.resource.aws_iam_role!).find(([, v]) => (v as any).name === "staging-gitlab-server")![0];
    expect(p.role).toBe(`\${aws_iam_role.${roleKey}.id}`);
    expect(JSON.parse(p.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "RenewAutomationToken",
          Effect: "Allow",
          Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
          Resource: [secretArn],
        },
      ],
    });
    // Its first boot puts the first version: the grant is in place before the instance exists.
    const policyKey = Object.entries(stack.resource.aws_iam_role_policy!).find(([, v]) => (v as any).name === "automation-token")![0];
    expect(instance.depends_on).toContain(`aws_iam_role_policy.${policyKey}`);
  });

  it("the server's bootstrap knows the store, and ships the script, the Ruby (root-only) and the daily renewal", () => {
    expect(file("/etc/gitlab-platform/bootstrap.env")!.content).toContain("\nAUTOMATION_TOKEN_STORE=aws-secret:staging-gitlab/automation-token\n");
    expect(file("/etc/gitlab-platform/bootstrap.env")!.content).toMatch(/^ENABLE_UNITS=".*\bgitlab-automation-token\.timer\b.*"$/m);
    expect(file("/usr/local/sbin/gitlab-automation-token")).toMatchObject({ permissions: "0755", content: compactScript("gitlab-automation-token.sh") });
    expect(file("/etc/gitlab/automation-token.rb")).toMatchObject({ permissions: "0600", content: renderAutomationTokenScript() });
    const service = file("/etc/systemd/system/gitlab-automation-token.service")!.content;
    expect(service).toContain('Environment="AUTOMATION_TOKEN_STORE=aws-secret:staging-gitlab/automation-token"');
    expect(service).toContain(`Environment="AWS_REGION=eu-west-3"`);
    expect(service).toContain("ExecStart=/usr/local/sbin/gitlab-automation-token\n");
    expect(file("/etc/systemd/system/gitlab-automation-token.timer")!.content).toContain("OnCalendar=*-*-* 04:30:00 UTC\nPersistent=true");
  });

  it.skipIf(!isStrict() && !findTool("ruby"))("the shipped Ruby is valid (ruby -c)", () => {
    const dir = mkdtempSync(join(tmpdir(), "automation-token-rb-"));
    try {
      writeFileSync(join(dir, "a.rb"), file("/etc/gitlab/automation-token.rb")!.content);
      expect(execFileSync("ruby", ["-c", join(dir, "a.rb")], { encoding: "utf8" })).toContain("Syntax OK");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!isStrict() && !findTool("systemd-analyze"))("its units pass systemd-analyze verify, and the calendar parses", async () => {
    const units = ["gitlab-automation-token.service", "gitlab-automation-token.timer"].map((n) => ({
      path: `/etc/systemd/system/${n}`,
      content: file(`/etc/systemd/system/${n}`)!.content,
    }));
    const results = await checkSystemdUnits(units);
    for (const [path, result] of results) {
      expect(result.findings, path).toEqual([]);
      expect(result.status, path).toBe("ok");
    }
    const calendar = await checkCalendar("*-*-* 04:30:00 UTC");
    expect(calendar.findings).toEqual([]);
  });
});
