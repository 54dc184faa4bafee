// The aws stack's registry, backups, DNS/TLS and observability, as synthesized for staging.
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { compactScript, hostScript } from "../../userdata/host-scripts";
import { BOOTSTRAP_FAILED_METRIC } from "../../userdata/bootstrap-metric";
import { exampleStack, exampleYaml, resources, synthEnvironment, userDataText, validEnvironment } from "../helpers";

const stack = exampleStack("staging");
const byAddress = (type: string, fragment: string) =>
  Object.entries(stack.resource[type] ?? {})
    .filter(([k]) => k.includes(fragment))
    .map(([, v]) => v as any);
const userData = parse(userDataText(resources(stack, "aws_instance")[0]));
const file = (path: string) => userData.write_files.find((f: any) => f.path === path)?.content as string;
const policy = (name: string) => JSON.parse(resources(stack, "aws_iam_role_policy").find((p) => p.name === name).policy);

describe("private buckets (registry, backups, runner cache)", () => {
  const buckets = resources(stack, "aws_s3_bucket");

  it("are named from the environment; the data buckets are protected against destroy", () => {
    expect(buckets.map((b) => b.bucket).sort()).toEqual(["staging-gitlab-backups", "staging-gitlab-registry", "staging-gitlab-runner-cache"]);
    for (const b of buckets.filter((b) => b.tags["gitlab-platform:purpose"] !== "cache")) {
      expect(b).toMatchObject({ force_destroy: false, lifecycle: { prevent_destroy: true } });
    }
  });

  it("block every kind of public access, enforce bucket ownership, encrypt and require TLS", () => {
    expect(resources(stack, "aws_s3_bucket_public_access_block")).toHaveLength(3);
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
      // Created after the public access block: S3 refuses both at once now and then.
      expect(p.depends_on).toEqual([expect.stringMatching(/^aws_s3_bucket_public_access_block\./)]);
    }
  });

  it("versioned ones expire old versions after 30 days and remove expired delete markers; none asks for an S3 Bucket Key it cannot use", () => {
    for (const purpose of ["backups", "registry"]) {
      const [lifecycle] = byAddress("aws_s3_bucket_lifecycle_configuration", purpose === "backups" ? "backups" : "registry");
      const rules = Object.fromEntries(lifecycle.rule.map((r: any) => [r.id, r]));
      expect(rules["expire-noncurrent-versions"].noncurrent_version_expiration, purpose).toEqual([{ noncurrent_days: 30 }]);
      expect(rules["remove-expired-delete-markers"], purpose).toMatchObject({ status: "Enabled", expiration: [{ expired_object_delete_marker: true }] });
    }
    // Bucket Keys cut KMS requests; with SSE-S3 (AES256) there are none to cut.
    for (const e of resources(stack, "aws_s3_bucket_server_side_encryption_configuration")) {
      expect(e.rule[0].apply_server_side_encryption_by_default.sse_algorithm).toBe("AES256");
      expect(e.rule[0].bucket_key_enabled).toBeUndefined();
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
    expect(rb).toMatch(
      /registry\['storage'\] = \{\n {2}'redirect' => \{\n {4}'disable' => false\n {2}\},\n {2}'s3' => \{\n {4}'bucket' => '\$\{aws_s3_bucket\.registry_storage_bucket_[A-F0-9]+\.bucket\}',\n {4}'region' => 'eu-west-3'\n {2}\}\n\}/,
    );
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
    // The bucket alone (fog reads the whole value as a bucket name); the folder is DIRECTORY=.
    expect(rb).toMatch(/gitlab_rails\['backup_upload_remote_directory'\] = '\$\{aws_s3_bucket\.backups_storage_bucket_[A-F0-9]+\.bucket\}'\n/);
    expect(file("/etc/systemd/system/gitlab-backup.service")).toContain('Environment="ARCHIVE_PREFIX=gitlab"');
    expect(hostScript("gitlab-backup-s3.sh")).toContain('gitlab-backup create CRON=1 "DIRECTORY=$ARCHIVE_PREFIX"');
  });

  it("runs at 02:00 UTC from a systemd timer (never cron), and backs up /etc/gitlab separately", () => {
    expect(file("/etc/systemd/system/gitlab-backup.timer")).toContain("OnCalendar=*-*-* 02:00:00 UTC\nPersistent=true");
    const service = file("/etc/systemd/system/gitlab-backup.service");
    expect(service).toContain("ExecStart=/usr/local/sbin/gitlab-backup-s3");
    expect(service).toContain('Environment="ENVIRONMENT=staging"');
    // The AWS CLI is found where the image or the bootstrap put it, snap included.
    expect(service).toMatch(/^Environment="PATH=\/usr\/local\/sbin:.*:\/usr\/bin:.*:\/snap\/bin"$/m);
    expect(service).not.toContain("AWS_CLI");
    expect(file("/usr/local/sbin/gitlab-backup-s3")).toBe(compactScript("gitlab-backup-s3.sh"));
    expect(hostScript("gitlab-backup-s3.sh")).toContain("members=(-C /etc/gitlab gitlab.rb gitlab-secrets.json)");
    expect(file("/etc/gitlab-platform/bootstrap.env")).toMatch(/^ENABLE_UNITS=".*\bgitlab-backup\.timer\b.*"$/m);
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
    // DLM (and the provider's validation) refuse anything but letters, digits, space, - and _.
    expect(dlm.description).toMatch(/^[0-9A-Za-z _-]{1,500}$/);
    expect(dlm.policy_details.schedule[0].name).toMatch(/^[0-9A-Za-z _-]{1,120}$/);
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

describe("backups to an existing bucket and prefix (as the reference AWS installation: nex-staging-backups/gitlab/)", () => {
  const c = exampleYaml("staging");
  c.backups.existingBucket = { name: "example-shared-backups", prefix: "gitlab" };
  const shared = synthEnvironment(validEnvironment(c, "staging"));
  const sharedUserData = parse(userDataText(resources(shared, "aws_instance")[0]));
  const sharedFile = (path: string) => sharedUserData.write_files.find((f: any) => f.path === path)?.content as string;

  it("creates no backups bucket, and finds the existing one at plan (a missing bucket fails the plan, not the first backup)", () => {
    expect(
      resources(shared, "aws_s3_bucket")
        .map((b) => b.bucket)
        .sort(),
    ).toEqual(["staging-gitlab-registry", "staging-gitlab-runner-cache"]);
    expect(Object.values(shared.data?.aws_s3_bucket ?? {})).toEqual([expect.objectContaining({ bucket: "example-shared-backups" })]);
    expect(shared.output.backup_bucket.value).toBe("example-shared-backups");
  });

  it("writes archives under <prefix>/ and the config copy under <prefix>/config/, and may touch nothing else in the bucket", () => {
    expect(sharedFile("/etc/gitlab/gitlab.rb")).toContain("gitlab_rails['backup_upload_remote_directory'] = 'example-shared-backups'\n");
    const service = sharedFile("/etc/systemd/system/gitlab-backup.service");
    expect(service).toContain('Environment="BACKUP_BUCKET=example-shared-backups"');
    expect(service).toContain('Environment="ARCHIVE_PREFIX=gitlab"');
    expect(service).toContain('Environment="CONFIG_PREFIX=gitlab/config"');
    const statements = JSON.parse(resources(shared, "aws_iam_role_policy").find((p) => p.name === "backups").policy).Statement;
    const bucketArn = expect.stringMatching(/^\$\{data\.aws_s3_bucket\.[^.]+\.arn\}$/);
    expect(statements[0]).toMatchObject({ Action: ["s3:ListBucket"], Resource: [bucketArn], Condition: { StringLike: { "s3:prefix": ["gitlab/*"] } } });
    expect(statements[1]).toMatchObject({ Action: ["s3:GetBucketLocation"], Resource: [bucketArn] });
    expect(statements[2].Resource).toEqual([expect.stringMatching(/^\$\{data\.aws_s3_bucket\.[^.]+\.arn\}\/gitlab\/\*$/)]);
  });

  it("keeps the dedicated bucket's layout by default: archives under gitlab/, the config copy under config/", () => {
    expect(file("/etc/systemd/system/gitlab-backup.service")).toContain('Environment="CONFIG_PREFIX=config"');
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

  it("sets the zone to Full (strict) from one environment per zone, and can leave it alone", () => {
    const production = exampleStack("production");
    expect(resources(production, "cloudflare_zone_setting")).toEqual([expect.objectContaining({ setting_id: "ssl", value: "strict" })]);
    // Staging shares production's zone in the examples: it leaves the one setting to production.
    expect(stack.resource.cloudflare_zone_setting).toBeUndefined();
    const c = exampleYaml("staging");
    delete c.tls.strictSslMode;
    expect(resources(synthEnvironment(validEnvironment(c, "staging")), "cloudflare_zone_setting")).toEqual([
      expect.objectContaining({ setting_id: "ssl", value: "strict" }),
    ]);
  });

  it("leaving the zone's SSL mode to another environment, checks at plan that the zone is Full or Full (strict): Flexible would loop redirects", () => {
    // Staging (strictSslMode: false) alone on a Flexible zone: Cloudflare would fetch over
    // HTTP and nginx redirect to HTTPS, forever. The plan reads the zone's mode and stops.
    const [check] = Object.values(stack.data?.cloudflare_zone_setting ?? {}) as any[];
    expect(check).toMatchObject({ zone_id: "00000000000000000000000000000000", setting_id: "ssl" });
    expect(check.lifecycle.postcondition).toEqual([
      {
        condition: '${contains(["full", "strict"], self.value)}',
        error_message: expect.stringMatching(/^The zone's SSL mode is not Full \(strict\).*tls\.strictSslMode: true.*first/),
      },
    ]);
    // The environment that sets the mode, and a DNS-only one, need no check.
    const production = exampleStack("production");
    expect(production.data?.cloudflare_zone_setting).toBeUndefined();
    const c = exampleYaml("staging");
    c.dns.proxied = false;
    expect(synthEnvironment(validEnvironment(c, "staging")).data?.cloudflare_zone_setting).toBeUndefined();
  });

  it("proxied, nginx and Rails take the client's address from Cloudflare's ranges only; DNS-only, from nobody", () => {
    const rb = file("/etc/gitlab/gitlab.rb");
    expect(rb).toContain("nginx['real_ip_trusted_addresses'] = [\n  '173.245.48.0/20',");
    expect(rb).toContain("'2c0f:f248::/32'\n]");
    expect(rb).toContain("nginx['real_ip_header'] = 'X-Forwarded-For'");
    expect(rb).toMatch(/gitlab_rails\['trusted_proxies'\] = \[\n {2}'173\.245\.48\.0\/20',/);
    const c = exampleYaml("staging");
    c.dns.proxied = false;
    const direct = parse(userDataText(resources(synthEnvironment(validEnvironment(c, "staging")), "aws_instance")[0]));
    const directRb = direct.write_files.find((f: any) => f.path === "/etc/gitlab/gitlab.rb").content as string;
    expect(directRb).not.toContain("real_ip");
    expect(directRb).not.toContain("trusted_proxies");
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

  it("ships Omnibus' rails and nginx logs, syslog and the bootstrap log from the GitLab host", () => {
    const agent = JSON.parse(file("/etc/gitlab-platform/cloudwatch-agent.json"));
    expect(agent.agent).toEqual({ run_as_user: "root" });
    const shipped = agent.logs.logs_collected.files.collect_list.map((f: any) => `${f.file_path} -> ${f.log_group_name}`);
    expect(shipped).toEqual([
      "/var/log/gitlab/gitlab-rails/production_json.log -> /staging/gitlab/rails",
      "/var/log/gitlab/nginx/gitlab_access.log -> /staging/gitlab/nginx-access",
      "/var/log/gitlab/nginx/gitlab_error.log -> /staging/gitlab/nginx-error",
      "/var/log/syslog -> /staging/gitlab/system",
      "/var/log/gitlab-bootstrap.log -> /staging/gitlab/system",
    ]);
    // Every group the agent writes to is one the stack creates (the role cannot create groups).
    const created = resources(stack, "aws_cloudwatch_log_group").map((g) => g.name);
    for (const f of agent.logs.logs_collected.files.collect_list) expect(created).toContain(f.log_group_name);
  });

  it("reports disk usage of / and the data volume with exactly the dimensions the disk alarms match", () => {
    const agent = JSON.parse(file("/etc/gitlab-platform/cloudwatch-agent.json"));
    expect(agent.metrics.metrics_collected.disk.resources).toEqual(["/", "/var/opt/gitlab"]);
    expect(agent.metrics.append_dimensions).toEqual({ InstanceId: "${aws:InstanceId}" });
    for (const alarm of byAddress("aws_cloudwatch_metric_alarm", "server-disk")) {
      expect(agent.metrics.aggregation_dimensions).toContainEqual(Object.keys(alarm.dimensions).sort());
    }
  });

  it("has the bootstrap start the agent with that config, before GitLab is installed", () => {
    const bootstrap = hostScript("gitlab-bootstrap.sh");
    expect(bootstrap).toContain("readonly CWAGENT_CONFIG=/etc/gitlab-platform/cloudwatch-agent.json");
    expect(bootstrap).toContain('-a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG"');
    expect(bootstrap.indexOf('step="start the CloudWatch agent"')).toBeLessThan(bootstrap.indexOf('step="install gitlab-ce'));
  });

  it("alarms on the runners' disk (aggregated per group) and on the group pinned at its maximum", () => {
    const [runnerDisk] = byAddress("aws_cloudwatch_metric_alarm", "runner-disk");
    expect(runnerDisk).toMatchObject({ namespace: "CWAgent", metric_name: "disk_used_percent", threshold: 85 });
    expect(runnerDisk.dimensions).toEqual({ AutoScalingGroupName: expect.stringMatching(/^\$\{aws_autoscaling_group\./) });
    const [atMax] = byAddress("aws_cloudwatch_metric_alarm", "runners-at-max");
    expect(atMax).toMatchObject({ namespace: "AWS/AutoScaling", metric_name: "GroupInServiceInstances", threshold: 3 });
    const asg = resources(stack, "aws_autoscaling_group")[0];
    expect(asg.enabled_metrics).toContain("GroupInServiceInstances");
  });

  it("alarms on status checks and on the server's root and data disks", () => {
    const names = resources(stack, "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name);
    expect(names).toEqual(
      expect.arrayContaining(["staging-gitlab-server-status-check", "staging-gitlab-server-disk-root", "staging-gitlab-server-disk-var-opt-gitlab"]),
    );
    const [disk] = byAddress("aws_cloudwatch_metric_alarm", "server-disk-var-opt-gitlab");
    expect(disk).toMatchObject({ namespace: "CWAgent", metric_name: "disk_used_percent", threshold: 85 });
    expect(disk.dimensions.path).toBe("/var/opt/gitlab");
  });

  it("alarms when a runner's or the GitLab server's bootstrap fails, on the metric their bootstraps send", () => {
    for (const [id, host] of [
      ["runner-bootstrap-failed", "staging-gitlab-runner"],
      ["server-bootstrap-failed", "staging-gitlab-server"],
    ] as const) {
      const [alarm] = byAddress("aws_cloudwatch_metric_alarm", id);
      expect(alarm, id).toMatchObject({
        alarm_name: `staging-gitlab-${id}`,
        namespace: BOOTSTRAP_FAILED_METRIC.namespace,
        metric_name: BOOTSTRAP_FAILED_METRIC.name,
        dimensions: { Host: host },
        statistic: "Sum",
        period: 300,
        evaluation_periods: 1,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        // Silence is no failure: the alarm clears once boots succeed again.
        treat_missing_data: "notBreaching",
      });
    }
    expect(file("/etc/gitlab-platform/bootstrap.env")).toContain("METRIC_HOST=staging-gitlab-server\n");
    const runnerUserData = parse(userDataText(resources(stack, "aws_launch_template")[0]));
    const runnerEnv = runnerUserData.write_files.find((f: any) => f.path === "/etc/gitlab-runner-fleet/bootstrap.env").content;
    expect(runnerEnv).toContain("METRIC_HOST=staging-gitlab-runner\n");
    for (const name of ["gitlab-bootstrap.sh", "runner-bootstrap.sh"] as const) {
      expect(hostScript(name), name).toContain(`--namespace ${BOOTSTRAP_FAILED_METRIC.namespace} --metric-name ${BOOTSTRAP_FAILED_METRIC.name}`);
    }
    expect(policy("report-bootstrap").Statement).toEqual([
      {
        Sid: "ReportBootstrapFailure",
        Effect: "Allow",
        Action: ["cloudwatch:PutMetricData"],
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "GitLab/Bootstrap" } },
      },
    ]);
  });

  it("notifies an optional e-mail topic", () => {
    expect(resources(stack, "aws_sns_topic")).toEqual([]);
    const c = exampleYaml("staging");
    c.observability.alarmEmail = "ops@example.com";
    const withEmail = synthEnvironment(validEnvironment(c, "staging"));
    expect(resources(withEmail, "aws_sns_topic_subscription")).toEqual([expect.objectContaining({ protocol: "email", endpoint: "ops@example.com" })]);
    for (const alarm of resources(withEmail, "aws_cloudwatch_metric_alarm"))
      expect(alarm.alarm_actions).toEqual([expect.stringMatching(/^\$\{aws_sns_topic\./)]);
  });

  it("lets the agent write only its own log groups, and metrics only to its namespace", () => {
    const [logs, metrics] = policy("cloudwatch-agent").Statement;
    expect(logs.Resource).toHaveLength(8);
    expect(metrics.Condition).toEqual({ StringEquals: { "cloudwatch:namespace": "CWAgent" } });
  });
});

describe("runner fleet in the aws stack", () => {
  const asg = resources(stack, "aws_autoscaling_group")[0];

  it("runs the reference AWS installation's Spot group in the configured private subnets", () => {
    const c = exampleYaml("staging");
    expect(asg).toMatchObject({ name: "staging-gitlab-runner", min_size: 1, max_size: 3, desired_capacity: 1 });
    expect(asg.vpc_zone_identifier).toEqual(c.aws.privateSubnetIds);
    expect(asg.mixed_instances_policy.launch_template.override).toEqual([{ instance_type: "t3a.large" }, { instance_type: "t3.large" }]);
  });

  it("keeps the runner logs with the environment's retentions", () => {
    const groups = Object.fromEntries(resources(stack, "aws_cloudwatch_log_group").map((g) => [g.name, g.retention_in_days]));
    expect(groups).toMatchObject({ "/staging/gitlab-runner/runner": 30, "/staging/gitlab-runner/system": 14 });
  });

  it("lets the runners read only their own token secret, the one this stack creates empty for staging-gitlab to fill", () => {
    const statements = policy("gitlab-runner").Statement;
    const token = statements.find((s: any) => s.Sid === "RunnerToken");
    const [secret, config] = Object.entries(stack.resource.aws_secretsmanager_secret ?? {}).find(
      ([, s]: [string, any]) => s.name === "staging-gitlab/runner-token",
    )! as [string, any];
    expect(token.Resource).toEqual([`\${aws_secretsmanager_secret.${secret}.arn}`]);
    expect(config.recovery_window_in_days).toBe(0);
    // No value here: the second stack writes each version.
    expect(stack.resource.aws_secretsmanager_secret_version).toBeUndefined();
  });

  it("with runners.token (the manual escape hatch), reads that secret and creates none", () => {
    const c = exampleYaml("staging");
    c.runners.token = { secretsManagerArn: "arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab-runner/token-AbCdEf" };
    const s = synthEnvironment(validEnvironment(c, "staging"));
    expect(Object.values(s.resource.aws_secretsmanager_secret ?? {}).map((x: any) => x.name)).not.toContain("staging-gitlab/runner-token");
    const p = JSON.parse(resources(s, "aws_iam_role_policy").find((x) => x.name === "gitlab-runner").policy);
    expect(p.Statement.find((x: any) => x.Sid === "RunnerToken").Resource).toEqual([c.runners.token.secretsManagerArn]);
  });
});

describe("the reference AWS installation's server options on aws", () => {
  it("relays mail on 587 and uses the existing RDS database, passwords read from Secrets Manager at boot", () => {
    const rb = file("/etc/gitlab/gitlab.rb");
    expect(rb).toContain("gitlab_rails['smtp_port'] = 587");
    expect(rb).toContain("gitlab_rails['smtp_password'] = File.read('/etc/gitlab/secrets.d/smtp_password').strip");
    expect(rb).toContain("postgresql['enable'] = false");
    expect(rb).toContain(`gitlab_rails['db_host'] = '${exampleYaml("staging").gitlab.externalDatabase.host}'`);
    expect(rb).toContain("gitlab_rails['db_password'] = File.read('/etc/gitlab/secrets.d/db_password').strip");
    const secrets = file("/etc/gitlab-platform/secrets.list")
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[0]);
    expect(secrets).toEqual(expect.arrayContaining(["smtp_password", "db_password"]));
    const readable = policy("read-boot-secrets").Statement.flatMap((s: any) => s.Resource);
    expect(readable).toEqual(
      expect.arrayContaining([
        exampleYaml("staging").gitlab.smtp.password.secretsManagerArn,
        exampleYaml("staging").gitlab.externalDatabase.password.secretsManagerArn,
      ]),
    );
  });
});
