// A jobs-mode worker's two scripts, run as the instance runs them: the setup cloud-init runs
// (Docker Engine, the login user in the docker group, the cleanup timer; fake dnf, rpm,
// systemctl and usermod record what they are asked), and the readiness check the manager
// runs over SSH before a worker's first job (instance_ready_command), against the setup's
// state as the setup leaves it. Workers have no IAM role: nothing here may call AWS.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runScript } from "../support/aws-cli";
import { shippedScript } from "../helpers";

const SETUP = shippedScript("runner-worker-setup.sh");
const READY = shippedScript("runner-worker-ready.sh");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "runner-worker-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function fake(bin: string, name: string, body: string): void {
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

function run(script: string, env: Record<string, string>): Promise<{ status: number | null; output: string; actions: string[] }> {
  const actions = join(root, "actions.log");
  if (!existsSync(actions)) writeFileSync(actions, "");
  return runScript(script, [], { PATH: `${join(root, "bin")}:/usr/bin:/bin`, ACTIONS: actions, ...env }).then(({ status, output }) => ({
    status,
    output,
    actions: readFileSync(actions, "utf8").split("\n").filter(Boolean),
  }));
}

interface Setup {
  /** dnf fails this many times first (the repository unreachable). */
  readonly dnfFailures?: number;
  /** The image lacks ec2-instance-connect. */
  readonly noInstanceConnect?: boolean;
  /** usermod fails. */
  readonly usermodFails?: boolean;
}

async function setup(options: Setup = {}) {
  const bin = join(root, "bin");
  fake(
    bin,
    "dnf",
    `n=$(cat "${root}/dnf-calls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "${root}/dnf-calls"; [ "$n" -gt ${options.dnfFailures ?? 0} ]`,
  );
  fake(bin, "rpm", options.noInstanceConnect ? "exit 1" : "exit 0");
  fake(bin, "systemctl", "exit 0");
  fake(bin, "usermod", options.usermodFails ? "exit 6" : "exit 0");
  // Nothing on a worker may reach AWS: it has no role. An `aws` call would be recorded here.
  fake(bin, "aws", "exit 1");
  const tree = join(root, "host");
  mkdirSync(join(tree, "var/log"), { recursive: true });
  const r = await run(SETUP, { BOOTSTRAP_ROOT: tree, BOOTSTRAP_RETRY_DELAY_MS: "10" });
  return { ...r, tree, state: join(tree, "var/lib/runner-worker"), log: join(tree, "var/log/runner-worker-setup.log") };
}

/** The readiness check against a setup's state, with a `docker` that answers or not. */
function ready(tree: string, docker: "up" | "down" = "up", env: Record<string, string> = {}) {
  fake(join(root, "bin"), "docker", docker === "up" ? "exit 0" : "echo 'permission denied while trying to connect to the Docker daemon socket' >&2; exit 1");
  return run(READY, {
    STATE_DIR: join(tree, "var/lib/runner-worker"),
    SETUP_LOG: join(tree, "var/log/runner-worker-setup.log"),
    READY_POLL_SECONDS: "0.1",
    ...env,
  });
}

describe("runner worker setup (scaling: jobs)", () => {
  it("installs and starts Docker, puts ec2-user in the docker group, starts the cleanup timer, then marks the worker ready", async () => {
    const r = await setup();
    expect(r.output).not.toContain("FAILED");
    expect(r.status).toBe(0);
    expect(r.actions).toEqual([
      "dnf install -y docker",
      "rpm -q ec2-instance-connect",
      "systemctl enable --now docker",
      "usermod -aG docker ec2-user",
      "systemctl enable --now docker-cleanup.timer",
    ]);
    expect(existsSync(join(r.state, "ready"))).toBe(true);
    expect(existsSync(join(r.state, "failed"))).toBe(false);
  });

  it("installs EC2 Instance Connect when the image lacks it (the manager's key arrives through it)", async () => {
    const r = await setup({ noInstanceConnect: true });
    expect(r.status).toBe(0);
    expect(r.actions).toContain("dnf install -y ec2-instance-connect");
  });

  it("retries the package install while the repository is unreachable", async () => {
    const r = await setup({ dnfFailures: 2 });
    expect(r.status).toBe(0);
    expect(r.actions.filter((a) => a === "dnf install -y docker")).toHaveLength(3);
    expect(readFileSync(r.log, "utf8")).toContain("installing docker failed (exit 1, attempt 2 of 6)");
  });

  it("records the failed step and never marks the worker ready", async () => {
    const r = await setup({ usermodFails: true });
    expect(r.status).toBe(6);
    expect(readFileSync(join(r.state, "failed"), "utf8").trim()).toBe("let ec2-user use Docker");
    expect(existsSync(join(r.state, "ready"))).toBe(false);
    expect(r.actions).not.toContain("systemctl enable --now docker-cleanup.timer");
  });
});

describe("runner worker readiness check (instance_ready_command)", () => {
  it("passes once the setup is done and the login user reaches Docker", async () => {
    const s = await setup();
    const r = await ready(s.tree);
    expect(r.status).toBe(0);
    expect(r.actions.at(-1)).toBe("docker info");
  });

  it("waits for a setup still running, then passes", async () => {
    const tree = join(root, "host");
    mkdirSync(join(tree, "var/lib/runner-worker"), { recursive: true });
    setTimeout(() => writeFileSync(join(tree, "var/lib/runner-worker/ready"), "now\n"), 600);
    const started = Date.now();
    const r = await ready(tree);
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it("fails at once with the failed step and the end of the setup's log, so the manager removes the worker", async () => {
    const s = await setup({ usermodFails: true });
    const r = await ready(s.tree);
    expect(r.status).toBe(1);
    expect(r.output).toContain("the worker's setup failed at step 'let ec2-user use Docker'");
    expect(r.output).toContain("FAILED at step 'let ec2-user use Docker'");
    expect(r.actions).not.toContain("docker info");
  });

  it("fails when the setup never finishes within the wait", async () => {
    const tree = join(root, "host");
    mkdirSync(join(tree, "var/lib/runner-worker"), { recursive: true });
    const r = await ready(tree, "up", { READY_WAIT_SECONDS: "1" });
    expect(r.status).toBe(1);
    expect(r.output).toContain("did not finish within 1s");
  });

  it("fails when the login user cannot reach Docker", async () => {
    const s = await setup();
    const r = await ready(s.tree, "down");
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/cannot reach Docker/);
  });
});
