// The homelab's secrets stay out of Terraform state. Its state lives in GitLab, where every
// Developer of the project can read it: a secret passed as a Terraform variable into a
// container's environment or an uploaded file would be there in clear. So each secret a
// container needs is a root-only file on the Docker host, under <dataRoot>/secrets/, bind-mounted
// read-only into the one container that reads it. The only Terraform variable left is the
// Cloudflare token of Terraform's own provider (provider configuration is never stored in state).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleStack, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";
import { BUSYBOX_IMAGE, describeWithDockerEngine } from "../support/docker-engine";

const stack = exampleStack("homelab");
// The homelab's containers, both stacks' (the runners are homelab-gitlab's).
const containers = [...resources(stack, "docker_container"), ...resources(exampleStack("homelab-gitlab"), "docker_container")];
const byName = (name: string) => containers.find((c) => c.name === name);
const upload = (c: any, file: string) => unescapeTemplate(c.upload.find((u: any) => u.file === file)?.content as string);
const secretMounts = (c: any) => (c.mounts ?? []).filter((m: any) => String(m.source).startsWith("/srv/gitlab/secrets/"));

describe("homelab secrets", () => {
  it("keeps every container secret out of Terraform: the only variable is the Cloudflare provider's token, used by the provider alone", () => {
    expect(Object.keys(stack.variable ?? {})).toEqual(["cloudflare_api_token"]);
    expect(JSON.stringify(stack.resource)).not.toContain("${var.");
    expect(stack.provider.cloudflare[0].api_token).toBe("${var.cloudflare_api_token}");
  });

  it("mounts each secret file read-only into the one container that reads it, at /run/secrets/<name>", () => {
    const owners: Record<string, string[]> = {};
    for (const c of containers) {
      for (const m of secretMounts(c)) {
        const name = String(m.source).replace("/srv/gitlab/secrets/", "");
        expect(m, `${c.name} ${name}`).toEqual({ type: "bind", source: `/srv/gitlab/secrets/${name}`, target: `/run/secrets/${name}`, read_only: true });
        owners[name] = [...(owners[name] ?? []), c.name];
      }
    }
    expect(owners).toEqual({
      gitlab_smtp_password: ["gitlab"],
      gitlab_oidc_client_secret: ["gitlab"],
      grafana_admin_password: ["grafana"],
      grafana_oauth_client_secret: ["grafana"],
      alertmanager_smtp_password: ["alertmanager"],
      traefik_cloudflare_dns_token: ["traefik"],
    });
  });

  it("each program reads its secret from the mounted file", () => {
    const rb = upload(byName("gitlab"), "/etc/gitlab/gitlab.rb");
    expect(rb).toContain("gitlab_rails['smtp_password'] = File.read('/run/secrets/gitlab_smtp_password').strip");
    expect(rb).toContain("'secret' => File.read('/run/secrets/gitlab_oidc_client_secret').strip");
    // Besides the post-reconfigure script, only where the automation token is stored: a path, no value.
    const env = (byName("gitlab").env ?? []).filter((e: string) => !e.startsWith("GITLAB_POST_RECONFIGURE_SCRIPT="));
    expect(env).toEqual(["AUTOMATION_TOKEN_STORE=file:/etc/gitlab/gitlab-platform/automation-token"]);
    // The runners' tokens are uploaded by homelab-gitlab from its gitlab_user_runners (test/stacks/runner-tokens.test.ts).
    expect(byName("gitlab-runner-build").env).toEqual(["RUNNER_TOKEN_FILE=/etc/gitlab-runner/runner-token"]);
    expect(byName("gitlab-runner-deploy").env).toEqual(["RUNNER_TOKEN_FILE=/etc/gitlab-runner/runner-token"]);
    expect(byName("grafana").env).toContain("GF_SECURITY_ADMIN_PASSWORD__FILE=/run/secrets/grafana_admin_password");
    const am = parse(upload(byName("alertmanager"), "/etc/alertmanager/alertmanager.yml"));
    expect(JSON.stringify(am)).toContain('"auth_password_file":"/run/secrets/alertmanager_smtp_password"');
    expect(byName("traefik").env).toEqual(["CF_DNS_API_TOKEN_FILE=/run/secrets/traefik_cloudflare_dns_token"]);
  });

  it("Traefik has its own DNS-only token, not the Cloudflare token Terraform manages the zone with", () => {
    expect(JSON.stringify(byName("traefik"))).not.toContain("cloudflare_api_token");
    const c = exampleYaml("homelab");
    c.tls.dnsApiToken = { hostFile: "cloudflare_api_token" };
    expect(validEnvironment(c, "homelab")).toBeTruthy();
  });
});

describeWithDockerEngine("host secret files on a real engine", (engine) => {
  /** docker run arguments for a container's generated secret mounts, on a data root in the scratch directory. */
  function mountArgs(dataRoot: string): string[] {
    const c = exampleYaml("homelab");
    c.docker.dataRoot = dataRoot;
    const gitlab = resources(synthEnvironment(validEnvironment(c, "homelab")), "docker_container").find((x) => x.name === "gitlab");
    return (gitlab.mounts as any[]).flatMap((m) => ["--mount", `type=${m.type},source=${m.source},target=${m.target}${m.read_only ? ",readonly" : ""}`]);
  }

  it("the container reads its secret from the host and cannot change it", () => {
    const dataRoot = join(engine().scratch, "present");
    mkdirSync(join(dataRoot, "secrets"), { recursive: true });
    writeFileSync(join(dataRoot, "secrets", "gitlab_smtp_password"), "s3cret-smtp\n", { mode: 0o600 });
    writeFileSync(join(dataRoot, "secrets", "gitlab_oidc_client_secret"), "s3cret-oidc", { mode: 0o600 });
    const out = engine().dockerOk([
      "run",
      "--rm",
      "--network",
      "none",
      ...mountArgs(dataRoot),
      BUSYBOX_IMAGE,
      "sh",
      "-c",
      "cat /run/secrets/gitlab_smtp_password; if echo x > /run/secrets/gitlab_smtp_password; then echo writable; else echo read-only; fi",
    ]);
    expect(out.split("\n")).toEqual(["s3cret-smtp", "read-only"]);
  }, 60_000);

  it("a missing secret file stops the container from being created, naming the file", () => {
    const dataRoot = join(engine().scratch, "missing");
    mkdirSync(join(dataRoot, "secrets"), { recursive: true });
    writeFileSync(join(dataRoot, "secrets", "gitlab_oidc_client_secret"), "s3cret-oidc");
    const r = engine().docker(["create", "--network", "none", ...mountArgs(dataRoot), BUSYBOX_IMAGE, "true"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(join(dataRoot, "secrets", "gitlab_smtp_password"));
  }, 60_000);
});
