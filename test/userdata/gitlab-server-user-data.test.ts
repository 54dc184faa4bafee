import { parse } from "yaml";
import { gzippedUserDataBytes } from "../../constructs/ec2-user-data";
import { describe, expect, it } from "vitest";
import { compactScript, hostScript } from "../../userdata/host-scripts";
import { renderGitlabServerUserData, type GitlabServerUserDataProps } from "../../userdata/gitlab-server-user-data";
import type { OmnibusSettings } from "../../userdata/gitlab-rb";

const omnibus: OmnibusSettings = {
  externalUrl: "https://gitlab.example.com",
  sshHost: "ssh-gitlab.example.com",
  sshPort: 22,
  timeZone: "UTC",
  emailFrom: "gitlab@example.com",
  tls: { mode: "certificate", certificatePath: "/etc/gitlab/secrets.d/tls_certificate", keyPath: "/etc/gitlab/secrets.d/tls_private_key" },
  memoryProfile: "standard",
  monitoring: { whitelist: ["127.0.0.0/8"], exportersOnAllInterfaces: false },
  backupKeepSeconds: 86400,
};

const props: GitlabServerUserDataProps = {
  gitlabVersion: "18.5.1-ce.0",
  region: "eu-west-3",
  metricHost: "staging-gitlab-server",
  dataVolumeId: "${aws_ebs_volume.data.id}",
  omnibus,
  secrets: [{ name: "smtp_password", arn: "arn:aws:secretsmanager:eu-west-3:111111111111:secret:smtp-AbCdEf" }],
  applicationSettings: { disablePasswordForSsoUsers: true },
};

const files = (doc: string) => Object.fromEntries(parse(doc).write_files.map((f: any) => [f.path, f]));

describe("GitLab server user data", () => {
  const doc = renderGitlabServerUserData(props);

  it("writes gitlab.rb, the bootstrap inputs and the scripts, root-only where secret", () => {
    const f = files(doc);
    expect(Object.keys(f).sort()).toEqual([
      "/etc/gitlab-platform/bootstrap.env",
      "/etc/gitlab-platform/data-owners.list",
      "/etc/gitlab-platform/secrets.list",
      "/etc/gitlab/application-settings.rb",
      "/etc/gitlab/gitlab.rb",
      "/etc/ssh/sshd_config.d/10-gitlab-git-only.conf",
      "/usr/local/sbin/gitlab-apply-settings",
      "/usr/local/sbin/gitlab-bootstrap",
      "/usr/local/sbin/gitlab-data-owners",
      "/usr/local/sbin/gitlab-keep-identity",
    ]);
    expect(f["/etc/gitlab/gitlab.rb"].permissions).toBe("0600");
    expect(f["/etc/gitlab/gitlab.rb"].content).toContain("external_url 'https://gitlab.example.com'");
    expect(f["/etc/gitlab-platform/bootstrap.env"].content).toBe(
      'GITLAB_VERSION=18.5.1-ce.0\nAWS_REGION=eu-west-3\nDATA_VOLUME_ID=${aws_ebs_volume.data.id}\nMETRIC_HOST=staging-gitlab-server\nENABLE_UNITS=""\n',
    );
    expect(f["/etc/gitlab-platform/secrets.list"].content).toBe("smtp_password arn:aws:secretsmanager:eu-west-3:111111111111:secret:smtp-AbCdEf\n");
    expect(f["/usr/local/sbin/gitlab-bootstrap"]).toMatchObject({ permissions: "0755", content: compactScript("gitlab-bootstrap.sh") });
  });

  it("adds host files and enables host units after GitLab is configured", () => {
    const withUnits = renderGitlabServerUserData({
      ...props,
      extraFiles: [{ path: "/etc/systemd/system/x.timer", permissions: "0644", content: "[Timer]\n" }],
      enableUnits: ["x.timer"],
    });
    expect(files(withUnits)["/etc/systemd/system/x.timer"].content).toBe("[Timer]\n");
    expect(files(withUnits)["/etc/gitlab-platform/bootstrap.env"].content).toContain('ENABLE_UNITS="x.timer"\n');
    expect(() => renderGitlabServerUserData({ ...props, enableUnits: ["x; reboot"] })).toThrow(/invalid unit name/);
  });

  it("lets only GitLab's git user in over SSH, with a drop-in that Ubuntu's sshd_config includes", () => {
    // Port 22 is open to the internet for git; EC2 Instance Connect would let `ubuntu` in too.
    // Admins use SSM. The bootstrap reloads sshd first (test/scripts/gitlab-bootstrap.test.ts).
    expect(files(doc)["/etc/ssh/sshd_config.d/10-gitlab-git-only.conf"]).toEqual({
      path: "/etc/ssh/sshd_config.d/10-gitlab-git-only.conf",
      owner: "root:root",
      permissions: "0644",
      content: "# GitLab platform: git over SSH only; admins use SSM Session Manager.\nAllowUsers git\n",
    });
    const directives = doc.match(/^\s*(AllowUsers|AllowGroups|DenyUsers|DenyGroups)\b.*$/gm) ?? [];
    expect(directives.map((d) => d.trim())).toEqual(["AllowUsers git"]);
  });

  it("runs the bootstrap once, as the only command", () => {
    expect(parse(doc).runcmd).toEqual([["/usr/local/sbin/gitlab-bootstrap"]]);
  });

  it("stays under EC2's 16 KB user data limit as Terraform sends it (gzipped)", () => {
    expect(gzippedUserDataBytes(doc)).toBeLessThan(8 * 1024);
  });

  it("refuses values that would break the env file", () => {
    expect(() => renderGitlabServerUserData({ ...props, gitlabVersion: "18.5.1; rm -rf /" })).toThrow(/unsafe value/);
    expect(() => renderGitlabServerUserData({ ...props, secrets: [{ name: "../x", arn: "a" }] })).toThrow(/invalid secret name/);
  });
});

describe("bootstrap script", () => {
  const script = hostScript("gitlab-bootstrap.sh");
  const order = (...needles: string[]) => needles.map((n) => script.indexOf(n));

  it("stops at the first failure and reports it", () => {
    expect(script).toContain("set -Eeuo pipefail");
    expect(script).toContain("trap on_bootstrap_error ERR");
    expect(script).toContain('echo "$step" > "$STATE_DIR/bootstrap.failed"');
  });

  it("mounts the data volume before installing GitLab, and formats it only when blank", () => {
    const [wait, format, mount, install, reconfigure] = order(
      'step="wait for data volume"',
      'step="format data volume (only if blank)"',
      'step="mount data volume"',
      'step="install gitlab-ce $GITLAB_VERSION"',
      'step="gitlab-ctl reconfigure"',
    );
    expect(wait).toBeGreaterThan(0);
    expect([wait, format, mount, install, reconfigure]).toEqual([...[wait, format, mount, install, reconfigure]].sort((a, b) => a! - b!));
    expect(script).toMatch(/if \[ "\$probe" -eq 2 \]; then\n\s+log "data volume is blank: creating ext4 filesystem"\n\s+mkfs\.ext4/);
    expect(script.match(/mkfs/g)).toHaveLength(1);
  });

  it("restores GitLab's secrets and SSH host keys from the data volume before reconfigure, and keeps them after", () => {
    const [mount, restore, install, reconfigure, save, settings] = order(
      'step="mount data volume"',
      '"$SBIN/gitlab-keep-identity" restore',
      'step="install gitlab-ce $GITLAB_VERSION"',
      "\ngitlab-ctl reconfigure\n",
      '"$SBIN/gitlab-keep-identity" save',
      '"$SBIN/gitlab-apply-settings"\n',
    );
    expect(mount).toBeGreaterThan(0);
    expect([mount, restore, install, reconfigure, save, settings]).toEqual([mount, restore, install, reconfigure, save, settings].sort((a, b) => a! - b!));
    expect(script).toContain("systemctl try-restart ssh.service");
    expect(files(renderGitlabServerUserData(props))["/usr/local/sbin/gitlab-keep-identity"]).toMatchObject({
      permissions: "0755",
      content: compactScript("gitlab-keep-identity.sh"),
    });
  });

  it("pins the package and lets only itself reconfigure", () => {
    expect(script).toContain('apt_get install -y -q "gitlab-ce=$GITLAB_VERSION"');
    expect(script).toContain("apt_mark hold gitlab-ce");
    expect(script.indexOf('touch "$ROOT/etc/gitlab/skip-auto-reconfigure"')).toBeLessThan(script.indexOf('apt_get install -y -q "gitlab-ce='));
  });
});
