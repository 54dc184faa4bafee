import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderGitlabRb, type OmnibusSettings } from "../../userdata/gitlab-rb";
import { OMNIBUS_ACCOUNTS, pinnedAccountIds } from "../../userdata/omnibus-accounts";
import { extractArtifacts } from "../../scripts/verify/extract";
import { exampleEnvironments, exampleStack, REPO_ROOT } from "../examples";

const base: OmnibusSettings = {
  externalUrl: "https://gitlab.example.com",
  registryExternalUrl: "https://registry.example.com",
  sshHost: "ssh-gitlab.example.com",
  sshPort: 2222,
  timeZone: "UTC",
  emailFrom: "gitlab@example.com",
  tls: { mode: "proxy", trustedProxies: ["172.30.0.0/24"] },
  memoryProfile: "standard",
  monitoring: { whitelist: ["127.0.0.0/8", "::1/128", "172.30.0.0/24"], exportersOnAllInterfaces: true },
  backupKeepSeconds: 604800,
};

const full: OmnibusSettings = {
  ...base,
  memoryProfile: "small",
  smtp: { host: "smtp.example.com", port: 587, username: "gitlab", password: { env: "GITLAB_SMTP_PASSWORD" }, security: "starttls", domain: "example.com" },
  oidc: {
    label: "Authentik",
    issuer: "https://auth.example.com/application/o/gitlab/",
    clientId: "gitlab",
    clientSecret: { file: "/etc/gitlab/secrets.d/oidc_client_secret" },
    autoSignIn: true,
    blockAutoCreatedUsers: false,
    autoLinkUsers: false,
  },
  externalDatabase: {
    host: "db.example.com",
    port: 5432,
    name: "gitlab",
    username: "gitlab",
    password: { file: "/etc/gitlab/secrets.d/db_password" },
    sslMode: "require",
  },
  objectStorage: {
    region: "eu-west-3",
    buckets: {
      artifacts: "b-artifacts",
      external_diffs: "b-diffs",
      lfs: "b-lfs",
      uploads: "b-uploads",
      packages: "b-packages",
      dependency_proxy: "b-dp",
      terraform_state: "b-tf",
      ci_secure_files: "b-sf",
    },
  },
  registryS3: { region: "eu-west-3", bucket: "staging-registry" },
  backupUpload: { region: "eu-west-3", bucket: "staging-backups" },
  accountIds: pinnedAccountIds(),
};

/** Keys omnibus-gitlab knows (vendored from its gitlab.rb template and cookbooks). */
const knownKeys = new Set(readFileSync(join(REPO_ROOT, "test/fixtures/omnibus-gitlab-rb-keys.txt"), "utf8").split("\n").filter(Boolean));
const NGINX_LIKE = /^(registry_nginx|mattermost_nginx|pages_nginx|gitlab_kas_nginx)\[/;

function assignedKeys(rb: string): string[] {
  return [...rb.matchAll(/^([a-z_]+\['[a-z_]+'\]) = /gm)].map((m) => m[1]!);
}

describe("gitlab.rb renderer", () => {
  it("sets the URLs and the git SSH host and port", () => {
    const rb = renderGitlabRb(base);
    expect(rb).toContain("external_url 'https://gitlab.example.com'");
    expect(rb).toContain("registry_external_url 'https://registry.example.com'");
    expect(rb).toContain("gitlab_rails['gitlab_ssh_host'] = 'ssh-gitlab.example.com'");
    expect(rb).toContain("gitlab_rails['gitlab_shell_ssh_port'] = 2222");
  });

  it("behind a TLS-terminating proxy: plain HTTP nginx that trusts only the proxy network", () => {
    const rb = renderGitlabRb(base);
    for (const server of ["nginx", "registry_nginx"]) {
      expect(rb).toContain(`${server}['listen_port'] = 80`);
      expect(rb).toContain(`${server}['listen_https'] = false`);
      expect(rb).toContain(`${server}['proxy_set_headers'] = {\n  'X-Forwarded-Proto' => 'https',\n  'X-Forwarded-Ssl' => 'on'\n}`);
    }
    expect(rb).toContain("nginx['real_ip_trusted_addresses'] = [\n  '172.30.0.0/24'\n]");
    expect(rb).toContain("gitlab_rails['trusted_proxies'] = [\n  '172.30.0.0/24'\n]");
    expect(rb).toContain("letsencrypt['enable'] = false");
  });

  it("the registry's nginx takes the client's address from the same proxies as GitLab's (both TLS modes)", () => {
    const cloudflare = ["173.245.48.0/20", "2400:cb00::/32"];
    for (const rb of [
      renderGitlabRb(base),
      renderGitlabRb({ ...base, tls: { mode: "certificate", certificatePath: "/c", keyPath: "/k", trustedProxies: cloudflare } }),
    ]) {
      for (const key of ["real_ip_trusted_addresses", "real_ip_header", "real_ip_recursive"]) {
        const nginx = new RegExp(`^nginx\\['${key}'\\] = ([^\\n]*(\\n  [^\\n]*)*\\n\\]?)`, "m").exec(rb)?.[1];
        expect(nginx, key).toBeDefined();
        expect(rb).toContain(`registry_nginx['${key}'] = ${nginx}`);
      }
    }
    // Without a registry, no registry_nginx at all.
    const { registryExternalUrl: _, ...withoutRegistry } = base;
    expect(renderGitlabRb(withoutRegistry)).not.toContain("registry_nginx");
  });

  it("with a certificate: nginx serves it and redirects HTTP", () => {
    const rb = renderGitlabRb({
      ...base,
      tls: { mode: "certificate", certificatePath: "/etc/gitlab/secrets.d/tls_certificate", keyPath: "/etc/gitlab/secrets.d/tls_private_key" },
    });
    expect(rb).toContain("nginx['ssl_certificate'] = '/etc/gitlab/secrets.d/tls_certificate'");
    expect(rb).toContain("registry_nginx['ssl_certificate_key'] = '/etc/gitlab/secrets.d/tls_private_key'");
    expect(rb).toContain("nginx['redirect_http_to_https'] = true");
    expect(rb).not.toContain("listen_https");
  });

  it("small memory profile follows the reference k3s host (Puma 2, Sidekiq 5, PostgreSQL 64MB)", () => {
    const rb = renderGitlabRb({ ...base, memoryProfile: "small" });
    expect(rb).toContain("puma['worker_processes'] = 2");
    expect(rb).toContain("sidekiq['concurrency'] = 5");
    expect(rb).toContain("postgresql['shared_buffers'] = '64MB'");
    expect(rb).toContain("gitlab_kas['enable'] = false");
    expect(renderGitlabRb(base)).not.toContain("worker_processes");
  });

  it("never runs GitLab's bundled Prometheus or Alertmanager; metrics are open to the whitelist only", () => {
    const rb = renderGitlabRb(base);
    expect(rb).toContain("prometheus['enable'] = false");
    expect(rb).toContain("alertmanager['enable'] = false");
    expect(rb).toContain("gitlab_rails['monitoring_whitelist'] = [\n  '127.0.0.0/8',\n  '::1/128',\n  '172.30.0.0/24'\n]");
    expect(rb).toContain("node_exporter['listen_address'] = '0.0.0.0:9100'");
    const local = renderGitlabRb({ ...base, monitoring: { whitelist: ["127.0.0.0/8"], exportersOnAllInterfaces: false } });
    expect(local).not.toContain("0.0.0.0");
  });

  it("SMTP relay with STARTTLS on 587, password read at reconfigure time", () => {
    const rb = renderGitlabRb(full);
    expect(rb).toContain("gitlab_rails['smtp_enable'] = true");
    expect(rb).toContain("gitlab_rails['smtp_port'] = 587");
    expect(rb).toContain("gitlab_rails['smtp_password'] = ENV.fetch('GITLAB_SMTP_PASSWORD')");
    expect(rb).toContain("gitlab_rails['smtp_enable_starttls_auto'] = true");
    expect(rb).toContain("gitlab_rails['smtp_tls'] = false");
  });

  it("OIDC single sign-on with auto sign-in; the client secret is read from a file", () => {
    const rb = renderGitlabRb(full);
    expect(rb).toContain("gitlab_rails['omniauth_allow_single_sign_on'] = [\n  'openid_connect'\n]");
    expect(rb).toContain("gitlab_rails['omniauth_block_auto_created_users'] = false");
    expect(rb).toContain("gitlab_rails['omniauth_auto_sign_in_with_provider'] = 'openid_connect'");
    expect(rb).toContain("'issuer' => 'https://auth.example.com/application/o/gitlab/'");
    expect(rb).toContain("'secret' => File.read('/etc/gitlab/secrets.d/oidc_client_secret').strip");
    expect(rb).toContain("'redirect_uri' => 'https://gitlab.example.com/users/auth/openid_connect/callback'");
  });

  it("external PostgreSQL disables the bundled one and its exporter", () => {
    const rb = renderGitlabRb(full);
    expect(rb).toContain("postgresql['enable'] = false");
    expect(rb).toContain("postgres_exporter['enable'] = false");
    expect(rb).toContain("gitlab_rails['db_host'] = 'db.example.com'");
    expect(rb).toContain("gitlab_rails['db_password'] = File.read('/etc/gitlab/secrets.d/db_password').strip");
    expect(rb).not.toContain("shared_buffers");
  });

  it("S3 object storage, registry storage and backup upload use the instance role, never keys", () => {
    const rb = renderGitlabRb(full);
    expect(rb).toContain("'use_iam_profile' => true");
    expect(rb).toContain("'artifacts' => {\n      'bucket' => 'b-artifacts'\n    }");
    expect(rb).toContain("registry['storage'] = {");
    expect(rb).toContain("'bucket' => 'staging-registry'");
    expect(rb).toContain("gitlab_rails['backup_upload_remote_directory'] = 'staging-backups'\n");
    expect(rb).not.toMatch(/aws_access_key_id|aws_secret_access_key/);
  });

  it("pins every Omnibus account's uid and gid when asked (data that outlives the instance), and not otherwise", () => {
    const rb = renderGitlabRb(full);
    for (const a of OMNIBUS_ACCOUNTS) {
      expect(rb).toContain(`${a.key}['uid'] = ${a.id}\n`);
      expect(rb).toContain(`${a.key}['gid'] = ${a.id}\n`);
    }
    expect(
      assignedKeys(rb)
        .filter((k) => /\['(uid|gid)'\]$/.test(k))
        .sort(),
    ).toEqual(OMNIBUS_ACCOUNTS.flatMap((a) => [`${a.key}['gid']`, `${a.key}['uid']`]).sort());
    expect(renderGitlabRb(base)).not.toMatch(/\['(uid|gid)'\]/);
  });

  it("is deterministic", () => {
    expect(renderGitlabRb(full)).toBe(renderGitlabRb(JSON.parse(JSON.stringify(full))));
  });

  it("uses only keys omnibus-gitlab knows", () => {
    const keys = [
      ...assignedKeys(renderGitlabRb(full)),
      ...assignedKeys(renderGitlabRb({ ...base, tls: { mode: "certificate", certificatePath: "/a", keyPath: "/b" } })),
    ];
    const unknown = keys.filter((k) => !knownKeys.has(k) && !(NGINX_LIKE.test(k) && knownKeys.has(k.replace(/^[a-z_]+\[/, "nginx["))));
    expect(keys.length).toBeGreaterThan(50);
    expect(unknown).toEqual([]);
  });

  it("uses only keys omnibus-gitlab knows in every example environment's gitlab.rb, as deployed", () => {
    const files = exampleEnvironments().flatMap((env) => extractArtifacts(env.name, exampleStack(env.name)).filter((a) => a.path === "/etc/gitlab/gitlab.rb"));
    expect(files.map((f) => f.origin.split(":")[0]).sort()).toEqual(["homelab", "production", "staging"]);
    for (const f of files) {
      const unknown = assignedKeys(f.content).filter((k) => !knownKeys.has(k) && !(NGINX_LIKE.test(k) && knownKeys.has(k.replace(/^[a-z_]+\[/, "nginx["))));
      expect(unknown, f.origin).toEqual([]);
    }
  });

  const hasRuby = spawnSync("ruby", ["--version"]).status === 0;
  it.skipIf(!hasRuby && process.env.CI !== "true")("is valid Ruby (ruby -c)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gitlab-rb-"));
    for (const [name, settings] of [
      ["base", base],
      ["full", full],
    ] as const) {
      const file = join(dir, `${name}.rb`);
      writeFileSync(file, renderGitlabRb(settings));
      expect(execFileSync("ruby", ["-c", file], { encoding: "utf8" })).toContain("Syntax OK");
    }
  });
});
