// The README's homelab first deploy is one copy-pasteable sequence: it must run. Its steps
// that touch the Docker host (the secret files) run here for real, with `ssh`
// standing in for a shell on the host (it runs the remote command locally with bash) and
// `docker` recording calls; its config edits run on a copy of the example and the result goes
// through the loader and the synth. Deploys and Terraform calls cannot run here (no providers).
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEnvironments } from "../../config/load";
import { CONFIG_DIR, exampleStack, REPO_ROOT, synthEnvironmentStacks } from "../helpers";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const block = /<!-- homelab-first-deploy -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
/** The block's lines from the comment "# <n>." up to the next numbered comment. */
const step = (n: number) => {
  const lines = block.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`# ${n}.`));
  const end = lines.findIndex((l, i) => i > start && /^# \d+\./.test(l));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
};

function fakeHost() {
  const dir = mkdtempSync(join(tmpdir(), "first-deploy-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  // ssh [-t] host command…: the command runs here, as the host's login shell would run it.
  writeFileSync(join(bin, "ssh"), '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\nshift\nexec bash -c "$*"\n');
  writeFileSync(join(bin, "docker"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${join(dir, "docker.log")}"\n`);
  for (const f of ["ssh", "docker"]) chmodSync(join(bin, f), 0o755);
  return { dir, bin, dataRoot: join(dir, "srv-gitlab") };
}

function runSteps(script: string, host: ReturnType<typeof fakeHost>, input: string) {
  const prelude = `${step(0)}\nDATA_ROOT=${host.dataRoot}\n`;
  return spawnSync("bash", ["-e", "-c", `${prelude}${script}`], {
    encoding: "utf8",
    input,
    env: { PATH: `${host.bin}:/usr/bin:/bin`, HOME: host.dir },
  });
}

describe("README: the homelab's first deploy", () => {
  it("is one bash block in the README, and valid bash", () => {
    expect(block).toContain("npm run deploy -- homelab");
    expect(spawnSync("bash", ["-n"], { input: block }).status).toBe(0);
  });

  it("deploys with local state first, then moves the state into GitLab", () => {
    const order = [
      "export CHECKPOINT_DISABLE=1 DOCKER_HOST=",
      "backend: gitlab$/  backend: local/",
      "npm run deploy -- homelab",
      "backend: local$/  backend: gitlab/",
      "terraform state push",
    ];
    const at = order.map((s) => block.indexOf(s));
    expect(
      at.every((i) => i >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(block).not.toMatch(/docker\.host|TF_VAR_runner_token/);
  });

  it("its config edits switch the example to local state and back, as the loader and synth see them", () => {
    const dir = mkdtempSync(join(tmpdir(), "first-deploy-config-"));
    mkdirSync(join(dir, "config"));
    copyFileSync(join(CONFIG_DIR, "homelab.yaml"), join(dir, "config", "homelab.yaml"));
    const sed = (line: string) => execFileSync("bash", ["-c", line], { cwd: dir });
    const [toLocal, toGitlab] = block.split("\n").filter((l) => l.startsWith("sed -i"));
    sed(toLocal!);
    const local = loadEnvironments(join(dir, "config"))[0]!;
    expect(local.state).toEqual({ backend: "local" });
    // Both stacks' local states, which step 3 pushes, each to its own address.
    const stacks = synthEnvironmentStacks(local);
    expect(stacks.homelab!.terraform.backend.local).toEqual({ path: "../../../terraform.homelab.tfstate" });
    expect(stacks["homelab-gitlab"]!.terraform.backend.local).toEqual({ path: "../../../terraform.homelab-gitlab.tfstate" });
    expect(step(3)).toContain("for stack in homelab homelab-gitlab; do");
    expect(step(3)).toContain('export TF_HTTP_ADDRESS="$STATE/$stack" TF_HTTP_LOCK_ADDRESS="$STATE/$stack/lock" TF_HTTP_UNLOCK_ADDRESS="$STATE/$stack/lock"');
    expect(step(3)).toContain('terraform state push "../../../terraform.$stack.tfstate"');
    sed(toGitlab!);
    expect(readFileSync(join(dir, "config", "homelab.yaml"), "utf8")).toBe(readFileSync(join(CONFIG_DIR, "homelab.yaml"), "utf8"));
  });

  it("step 1 writes every secret file the example needs, root-only, with the typed values", () => {
    const host = fakeHost();
    const names = [
      "gitlab_smtp_password",
      "gitlab_oidc_client_secret",
      "traefik_cloudflare_dns_token",
      "grafana_admin_password",
      "grafana_oauth_client_secret",
      "alertmanager_smtp_password",
    ];
    const r = runSteps(step(1), host, `${names.map((n) => `value of ${n} with 'quotes' and $dollars`).join("\n")}\n`);
    expect(r.status, r.stderr).toBe(0);
    const secrets = join(host.dataRoot, "secrets");
    expect(statSync(secrets).mode & 0o777).toBe(0o700);
    const expected = (exampleStack("homelab").output.host_secret_files.value as string[]).map((p) => p.replace("/srv/gitlab/secrets/", ""));
    expect(readdirSync(secrets).sort()).toEqual(expected);
    for (const n of names) {
      expect(readFileSync(join(secrets, n), "utf8")).toBe(`value of ${n} with 'quotes' and $dollars`);
      expect(statSync(join(secrets, n)).mode & 0o777).toBe(0o600);
    }
  });

  it("has no manual runner token step: the homelab-gitlab stack registers the runners", () => {
    expect(block).not.toMatch(/runner_token|pending|New instance runner|glrt-/);
    expect(readme).not.toMatch(/runner_token_(build|deploy)/);
  });
});
