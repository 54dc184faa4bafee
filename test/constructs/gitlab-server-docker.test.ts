import { describe, expect, it } from "vitest";
import { renderAutomationTokenScript } from "../../userdata/automation-token";
import { hostScript } from "../../userdata/host-scripts";
import { exampleStack, resources } from "../examples";

const stack = exampleStack("homelab");
const container = resources(stack, "docker_container").find((c) => c.name === "gitlab");
const upload = (file: string) => container.upload.find((u: any) => u.file === file);

describe("GitLabServer on docker", () => {
  it("runs the GitLab CE image pinned to the configured version", () => {
    const image = resources(stack, "docker_image").find((i) => i.name.startsWith("gitlab/gitlab-ce:"));
    expect(image).toMatchObject({ name: "gitlab/gitlab-ce:18.5.1-ce.0", keep_locally: true });
    expect(container.image).toMatch(/^\$\{docker_image\.[^.]+\.image_id\}$/);
  });

  it("persists config, logs and data on the host so a new container keeps them", () => {
    expect(container.volumes).toEqual([
      { host_path: "/srv/gitlab/gitlab/config", container_path: "/etc/gitlab" },
      { host_path: "/srv/gitlab/gitlab/logs", container_path: "/var/log/gitlab" },
      { host_path: "/srv/gitlab/gitlab/data", container_path: "/var/opt/gitlab" },
      { host_path: "/srv/gitlab/registry", container_path: "/var/opt/gitlab/gitlab-rails/shared/registry" },
    ]);
  });

  it("publishes only git SSH, on the configured port", () => {
    expect(container.ports).toEqual([{ internal: 22, external: 2222, protocol: "tcp" }]);
  });

  it("restarts, is health-checked, has shared memory and stops gracefully", () => {
    expect(container.restart).toBe("unless-stopped");
    expect(container.shm_size).toBe(256);
    expect(container.healthcheck.test).toEqual(["CMD", "/opt/gitlab/bin/gitlab-healthcheck", "--fail", "--max-time", "10"]);
    expect(container.healthcheck.start_period).toBe("600s");
    expect(container.stop_timeout).toBe(120);
    expect(container.log_opts).toEqual({ "max-size": "20m", "max-file": "5" });
    expect(container.labels).toEqual([{ label: "gitlab-platform.keep", value: "true" }]);
  });

  it("joins the private network under its container name only (the web host name is Traefik's)", () => {
    const network = resources(stack, "docker_network").find((n) => n.name === "gitlab");
    expect(network).toMatchObject({ name: "gitlab", ipam_config: [{ subnet: "172.30.0.0/24" }] });
    expect(container.networks_advanced).toHaveLength(1);
    expect(container.networks_advanced[0].name).toMatch(/^\$\{docker_network\.[^.]+\.name\}$/);
    expect(container.networks_advanced[0].aliases).toBeUndefined();
  });

  it("gets gitlab.rb from the shared renderer: behind Traefik, SSH on 2222, small memory profile", () => {
    const rb = upload("/etc/gitlab/gitlab.rb");
    expect(rb.permissions).toBe("0600");
    expect(rb.content).toContain("external_url 'https://gitlab.home.example.com'");
    expect(rb.content).toContain("registry_external_url 'https://registry.home.example.com'");
    expect(rb.content).toContain("gitlab_rails['gitlab_shell_ssh_port'] = 2222");
    expect(rb.content).toContain("nginx['listen_https'] = false");
    expect(rb.content).toContain("puma['worker_processes'] = 2");
    expect(rb.content).toContain("gitlab_rails['monitoring_whitelist'] = [\n  '127.0.0.0/8',\n  '::1/128',\n  '172.30.0.253/32'\n]");
  });

  it("mounts its secrets from host files, read by gitlab.rb at reconfigure, never through Terraform", () => {
    expect(stack.variable!.gitlab_oidc_client_secret).toBeUndefined();
    expect(stack.variable!.gitlab_smtp_password).toBeUndefined();
    expect(container.env).toEqual([
      "GITLAB_POST_RECONFIGURE_SCRIPT=/usr/local/bin/gitlab-apply-settings",
      "AUTOMATION_TOKEN_STORE=file:/etc/gitlab/gitlab-platform/automation-token",
    ]);
    expect(container.mounts.map((m: any) => m.source)).toEqual(["/srv/gitlab/secrets/gitlab_smtp_password", "/srv/gitlab/secrets/gitlab_oidc_client_secret"]);
    expect(upload("/etc/gitlab/gitlab.rb").content).toContain("File.read('/run/secrets/gitlab_smtp_password').strip");
  });

  it("keeps password sign-in for local admins only when SSO is on (the reference homelab's break-glass rule)", () => {
    const settings = upload("/etc/gitlab/application-settings.rb").content;
    expect(settings).toContain("'disable_password_authentication_for_users_with_sso_identities' => true");
    // Sign-up is the <env>-gitlab stack's (gitlab_application_settings), not the script's.
    expect(settings).not.toContain("signup_enabled");
    expect(upload("/usr/local/bin/gitlab-apply-settings").executable).toBe(true);
  });

  it("ensures the automation token after every reconfigure, into a root-only file under /etc/gitlab", () => {
    // The image's wrapper runs GITLAB_POST_RECONFIGURE_SCRIPT, which runs the token's script (test/scripts/gitlab-apply-settings.test.ts).
    expect(container.env).toContain("GITLAB_POST_RECONFIGURE_SCRIPT=/usr/local/bin/gitlab-apply-settings");
    expect(container.env).toContain("AUTOMATION_TOKEN_STORE=file:/etc/gitlab/gitlab-platform/automation-token");
    expect(upload("/usr/local/bin/gitlab-automation-token")).toMatchObject({ executable: true });
    expect(upload("/usr/local/bin/gitlab-automation-token").content.replaceAll("$$", "$")).toBe(hostScript("gitlab-automation-token.sh").replaceAll("$$", "$"));
    expect(upload("/etc/gitlab/automation-token.rb")).toMatchObject({ permissions: "0600" });
    expect(upload("/etc/gitlab/automation-token.rb").content.replaceAll("$${", "${").replaceAll("%%{", "%{")).toBe(renderAutomationTokenScript());
  });

  it("renews the automation token daily from the backup scheduler, which already execs into GitLab", () => {
    const scheduler = resources(stack, "docker_container").find((c) => c.name === "gitlab-backup-scheduler");
    const crontab = scheduler.upload.find((u: any) => u.file === "/etc/crontabs/root").content;
    expect(crontab).toContain("\n30 4 * * * /usr/local/bin/docker exec gitlab /usr/local/bin/gitlab-automation-token\n");
  });

  it("outputs the URLs, SSH host and port and where the data lives", () => {
    expect(stack.output.web_url.value).toBe("https://gitlab.home.example.com");
    expect(stack.output.git_ssh_host.value).toBe("ssh-gitlab.home.example.com");
    expect(stack.output.git_ssh_port.value).toBe(2222);
    expect(stack.output.gitlab_data_paths.value).toEqual([
      "/srv/gitlab/gitlab/config",
      "/srv/gitlab/gitlab/logs",
      "/srv/gitlab/gitlab/data",
      "/srv/gitlab/registry",
    ]);
  });

  it("talks to whichever Docker daemon DOCKER_HOST names where Terraform runs (test/stacks/docker-provider.test.ts)", () => {
    expect(stack.provider.docker![0]).toEqual({ disable_docker_daemon_check: true });
  });
});
