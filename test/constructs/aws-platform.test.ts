// The aws stack's registry, backups, DNS/TLS and observability, as synthesized for staging.
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { hostScript } from "../../userdata/host-scripts";
import { exampleEnvironment, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

const stack = synthEnvironment(exampleEnvironment("staging"));
const byAddress = (type: string, fragment: string) => Object.entries(stack.resource[type] ?? {}).filter(([k]) => k.includes(fragment)).map(([, v]) => v as any);
const userData = parse(unescapeTemplate(resources(stack, "aws_instance")[0].user_data));
const file = (path: string) => userData.write_files.find((f: any) => f.path === path)?.content as string;
const policy = (name: string) => JSON.parse(resources(stack, "aws_iam_role_policy").find((p) => p.name === name).policy);

describe("private buckets (registry, backups)", () => {
  const buckets = resources(stack, "aws_s3_bucket");

  it("are named from the environment and protected against destroy", () => {
    expect(buckets.map((b) => b.bucket).sort()).toEqual(["staging-gitlab-backups", "staging-gitlab-registry"]);
    for (const b of buckets) expect(b).toMatchObject({ force_destroy: false, lifecycle: { prevent_destroy: true } });
  });

  it("block every kind of public access, enforce bucket ownership, encrypt and require TLS", () => {
    expect(resources(stack, "aws_s3_bucket_public_access_block")).toHaveLength(2);
    for (const pab of resources(stack, "aws_s3_bucket_public_access_block")) {
      expect(pab).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    }
    for (const o of resources(stack, "aws_s3_bucket_ownership_controls")) expect(o.rule.object_ownership).toBe("BucketOwnerEnforced");
    for (const e of resources(stack, "aws_s3_bucket_server_side_encryption_configuration")) {
      expect(e.rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe("AES256");
    }
    for (const p of resources(stack, "aws_s3_bucket_policy")) {
      const statement = JSON.parse(p.policy).Statement[0];
      expect(statement).toMatchObject({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    }
  });

  it("are versioned; the backup bucket expires archives after the retention", () => {
    expect(resources(stack, "aws_s3_bucket_versioning").map((v) => v.versioning_configuration.status)).toEqual(["Enabled", "Enabled"]);
    const [backupLifecycle] = byAddress("aws_s3_bucket_lifecycle_configuration", "backups");
    const rules = Object.fromEntries(backupLifecycle.rule.map((r: any) => [r.id, r]));
    expect(rules["expire-objects"].expiration).toEqual([{ days: 30 }]);
    expect(rules["expire-noncurrent-versions"].noncurrent_version_expiration).toEqual([{ noncurrent_days: 30 }]);
  });
});

describe("registry on aws", () => {
  it("stores images in its bucket through the instance role, never with keys", () => {
    const rb = file("/etc/gitlab/gitlab.rb");
    expect(rb).toContain("registry_external_url 'https://registry-staging.example.com'");
    expect(rb).toMatch(/registry\['storage'\] = \{\n  'redirect' => \{\n    'disable' => false\n  \},\n  's3' => \{\n    'bucket' => '\$\{aws_s3_bucket\.registry_storage_bucket_[A-F0-9]+\.bucket\}',\n    'region' => 'eu-west-3'\n  \}\n\}/);
    const statements = policy("registry-storage").Statement;
    expect(statements.map((s: any) => s.Resource)).toEqual([
      [expect.stringMatching(/^\$\{aws_s3_bucket\.registry_storage_bucket_[A-F0-9]+\.arn\}$/)],
      [expect.stringMatching(/^\$\{aws_s3_bucket\.registry_storage_bucket_[A-F0-9]+\.arn\}\/\*$/)],
    ]);
  });
});

describe("backups on aws", () => {
  it("uploads GitLab's archive to the backup bucket through the instance role", () => {
    const rb = file("/etc/gitlab/gitlab.rb");
    expect(rb).toContain("'use_iam_profile' => true");
    expect(rb).toMatch(/gitlab_rails\['backup_upload_remote_directory'\] = '\$\{aws_s3_bucket\.backups_storage_bucket_[A-F0-9]+\.bucket\}\/gitlab'/);
  });

  it("runs at 02:00 UTC from a systemd timer (never cron), and backs up /etc/gitlab separately", () => {
    expect(file("/etc/systemd/system/gitlab-backup.timer")).toContain("OnCalendar=*-*-* 02:00:00 UTC\nPersistent=true");
    const service = file("/etc/systemd/system/gitlab-backup.service");
    expect(service).toContain("ExecStart=/usr/local/sbin/gitlab-backup-s3");
    expect(service).toContain('Environment="ENVIRONMENT=staging"');
    expect(file("/usr/local/sbin/gitlab-backup-s3")).toBe(hostScript("gitlab-backup-s3.sh"));
    expect(hostScript("gitlab-backup-s3.sh")).toContain("tar -czf \"$work/gitlab-config-$stamp.tar.gz\" -C /etc/gitlab gitlab.rb gitlab-secrets.json");
    expect(file("/etc/gitlab-platform/bootstrap.env")).toContain('ENABLE_UNITS="gitlab-backup.timer"');
    expect(JSON.stringify(userData)).not.toMatch(/cron\.d|crontab/);
  });

  it("lets the instance write but never delete backups", () => {
    const actions = policy("backups").Statement.flatMap((s: any) => s.Action);
    expect(actions).toContain("s3:PutObject");
    expect(actions.filter((a: string) => /Delete/.test(a))).toEqual([]);
  });

  it("snapshots the data volume daily with DLM, keeping 14 days", () => {
    const [dlm] = resources(stack, "aws_dlm_lifecycle_policy");
    expect(dlm.policy_details.resource_types).toEqual(["VOLUME"]);
    expect(dlm.policy_details.target_tags).toEqual({ "gitlab-platform:snapshots": "staging-gitlab-data" });
    expect(dlm.policy_details.schedule[0].create_rule).toMatchObject({ interval: 24, interval_unit: "HOURS" });
    expect(dlm.policy_details.schedule[0].retain_rule).toEqual({ interval: 14, interval_unit: "DAYS" });
    expect(resources(stack, "aws_ebs_volume")[0].tags["gitlab-platform:snapshots"]).toBe("staging-gitlab-data");
  });

  it("alarms when no backup succeeded for maxAgeHours, counting silence as failure", () => {
    const [alarm] = byAddress("aws_cloudwatch_metric_alarm", "backup-too-old");
    expect(alarm).toMatchObject({
      namespace: "GitLab/Backups",
      metric_name: "BackupSucceeded",
      dimensions: { Environment: "staging" },
      period: 3600,
      evaluation_periods: 26,
      datapoints_to_alarm: 26,
      comparison_operator: "LessThanThreshold",
      threshold: 1,
      treat_missing_data: "breaching",
    });
  });
});

describe("DNS and TLS on aws", () => {
  const records = Object.fromEntries(resources(stack, "cloudflare_dns_record").map((r) => [r.name, r]));

  it("points GitLab and the registry (proxied) and git SSH (DNS-only) at the Elastic IP", () => {
    expect(Object.keys(records).sort()).toEqual(["gitlab-staging.example.com", "registry-staging.example.com", "ssh-gitlab-staging.example.com"]);
    for (const r of Object.values(records) as any[]) expect(r.content).toMatch(/^\$\{aws_eip\.[^.]+\.public_ip\}$/);
    expect(records["gitlab-staging.example.com"].proxied).toBe(true);
    expect(records["registry-staging.example.com"].proxied).toBe(true);
    expect(records["ssh-gitlab-staging.example.com"].proxied).toBe(false);
  });

  it("sets the zone to Full (strict), and can leave it alone", () => {
    expect(resources(stack, "cloudflare_zone_setting")).toEqual([expect.objectContaining({ setting_id: "ssl", value: "strict" })]);
    const c = exampleYaml("staging");
    c.tls.strictSslMode = false;
    expect(synthEnvironment(validEnvironment(c, "staging")).resource.cloudflare_zone_setting).toBeUndefined();
  });

  it("serves the Origin CA certificate fetched from Secrets Manager at boot", () => {
    expect(file("/etc/gitlab-platform/secrets.list")).toMatch(/^tls_certificate arn:aws:secretsmanager:.*origin-certificate/m);
    expect(file("/etc/gitlab/gitlab.rb")).toContain("nginx['ssl_certificate_key'] = '/etc/gitlab/secrets.d/tls_private_key'");
  });
});

describe("observability on aws", () => {
  it("keeps GitLab's logs 30 days and system logs 14", () => {
    const groups = Object.fromEntries(resources(stack, "aws_cloudwatch_log_group").map((g) => [g.name, g.retention_in_days]));
    expect(groups).toMatchObject({
      "/staging/gitlab/rails": 30,
      "/staging/gitlab/nginx-access": 30,
      "/staging/gitlab/nginx-error": 30,
      "/staging/gitlab/system": 14,
    });
  });

  it("alarms on status checks and on the server's root and data disks", () => {
    const names = resources(stack, "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name);
    expect(names).toEqual(expect.arrayContaining(["staging-gitlab-server-status-check", "staging-gitlab-server-disk-root", "staging-gitlab-server-disk-var-opt-gitlab"]));
    const [disk] = byAddress("aws_cloudwatch_metric_alarm", "server-disk-var-opt-gitlab");
    expect(disk).toMatchObject({ namespace: "CWAgent", metric_name: "disk_used_percent", threshold: 85 });
    expect(disk.dimensions.path).toBe("/var/opt/gitlab");
  });

  it("notifies an optional e-mail topic", () => {
    expect(resources(stack, "aws_sns_topic")).toEqual([]);
    const c = exampleYaml("staging");
    c.observability.alarmEmail = "ops@example.com";
    const withEmail = synthEnvironment(validEnvironment(c, "staging"));
    expect(resources(withEmail, "aws_sns_topic_subscription")).toEqual([expect.objectContaining({ protocol: "email", endpoint: "ops@example.com" })]);
    for (const alarm of resources(withEmail, "aws_cloudwatch_metric_alarm")) expect(alarm.alarm_actions).toEqual([expect.stringMatching(/^\$\{aws_sns_topic\./)]);
  });

  it("lets the agent write only its own log groups, and metrics only to its namespace", () => {
    const [logs, metrics] = policy("cloudwatch-agent").Statement;
    expect(logs.Resource).toHaveLength(8);
    expect(metrics.Condition).toEqual({ StringEquals: { "cloudwatch:namespace": "CWAgent" } });
  });
});
