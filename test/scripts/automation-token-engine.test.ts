// The homelab's automation token renewal against a real Docker engine: the backup scheduler's
// crontab line, run as busybox crond would (sh -c, the Docker CLI), execs into a stand-in GitLab
// container started with the GitLab container's synthesized environment, whose
// gitlab-automation-token records what it got. Shows the line names the right container and
// path, and that the store reaches the script through the container's own environment (the
// script itself is tested in gitlab-automation-token.test.ts). The documented rotation too.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { exampleStack, resources } from "../examples";
import { BUSYBOX_IMAGE, busyboxBin, describeWithDockerEngine } from "../support/docker-engine";

const stack = exampleStack("homelab");
const gitlab = resources(stack, "docker_container").find((c) => c.name === "gitlab");
const scheduler = resources(stack, "docker_container").find((c) => c.name === "gitlab-backup-scheduler");
const crontab = unescapeTemplate(scheduler.upload.find((u: any) => u.file === "/etc/crontabs/root").content as string);
const renewal = crontab.split("\n").find((l) => l.includes("gitlab-automation-token"))!;
const OPERATIONS = readFileSync(join(__dirname, "..", "..", "docs", "operations.md"), "utf8");

// Stands in for the script in the GitLab container: records its store and arguments.
const FAKE_SCRIPT = `#!/bin/sh
echo "store=$AUTOMATION_TOKEN_STORE args=$*" >> /out/calls
`;

describeWithDockerEngine("the automation token's renewal and rotation against a real engine", (engine) => {
  let out: string;
  beforeAll(() => {
    const root = join(engine().scratch, "automation-token");
    out = join(root, "out");
    const bin = join(root, "gitlab-bin");
    for (const d of [out, bin]) mkdirSync(d, { recursive: true });
    writeFileSync(join(bin, "gitlab-automation-token"), FAKE_SCRIPT);
    chmodSync(join(bin, "gitlab-automation-token"), 0o755);
    const env = (gitlab.env as string[]).flatMap((e) => ["-e", e]);
    engine().dockerOk([
      "run",
      "-d",
      "--name",
      gitlab.name,
      "--network",
      "none",
      ...env,
      "-v",
      `${bin}:/usr/local/bin:ro`,
      "-v",
      `${out}:/out`,
      BUSYBOX_IMAGE,
      "sleep",
      "3600",
    ]);
  }, 120_000);

  /** Runs a command line as busybox sh would, with the Docker CLI first on PATH and this engine. */
  function sh(line: string) {
    const bin = busyboxBin(join(engine().scratch, "bin"));
    rmSync(join(out, "calls"), { force: true });
    const r = spawnSync(join(bin, "sh"), ["-c", line], { encoding: "utf8", env: { PATH: bin, DOCKER_HOST: engine().host } });
    const calls = spawnSync(join(bin, "cat"), [join(out, "calls")], { encoding: "utf8" }).stdout;
    return { status: r.status, output: `${r.stdout}${r.stderr}`, calls };
  }

  it("the scheduler's daily line runs the script in the GitLab container, which finds its store in its own environment", () => {
    expect(renewal).toMatch(/^30 4 \* \* \* \/usr\/local\/bin\/docker exec gitlab \/usr\/local\/bin\/gitlab-automation-token$/);
    // The scheduler image's docker is /usr/local/bin/docker; here, the host's client on PATH.
    const r = sh(
      renewal
        .split(" ")
        .slice(5)
        .join(" ")
        .replace(/^\/usr\/local\/bin\/docker /, "docker "),
    );
    expect(r.status, r.output).toBe(0);
    expect(r.calls).toBe("store=file:/etc/gitlab/gitlab-platform/automation-token args=\n");
  });

  it("the documented docker rotation reaches the same script with --rotate", () => {
    const documented = /^docker exec gitlab gitlab-automation-token --rotate$/m.exec(OPERATIONS)?.[0];
    expect(documented).toBeDefined();
    const r = sh(documented!);
    expect(r.status, r.output).toBe(0);
    expect(r.calls).toBe("store=file:/etc/gitlab/gitlab-platform/automation-token args=--rotate\n");
  });
});
