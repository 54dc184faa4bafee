// Runs the real runner bootstrap up to a failing step, with fake `dnf`, `curl` (instance
// metadata) and `aws` first on PATH: a failed bootstrap must say where it stopped and take
// the instance out of the group, since EC2's own health checks would keep it.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedScript } from "../helpers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Run as shipped in the user data (comments stripped).
const SCRIPT = shippedScript("runner-bootstrap.sh");

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "runner-bootstrap-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function fake(bin: string, name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\nprintf '${name} %s\\n' "$*" >> "$ACTIONS"\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

function run(options: { imds: "up" | "down"; region?: boolean }) {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  const actions = join(root, "actions.log");
  writeFileSync(actions, "");
  fake(bin, "dnf", 'echo "dnf: cannot reach the repository" >&2; exit 1');
  fake(bin, "aws", "exit 0");
  fake(
    bin,
    "curl",
    options.imds === "down"
      ? "exit 7"
      : 'case "$*" in *api/token*) echo TOKEN ;; *instance-id*) echo i-0123456789abcdef0 ;; *) exit 22 ;; esac',
  );
  const config = join(root, "bootstrap.env");
  writeFileSync(config, `RUNNER_VERSION=18.5.0\n${options.region === false ? "" : "AWS_REGION=eu-west-3\n"}TOKEN_SECRET_ARN=arn:aws:secretsmanager:eu-west-3:111111111111:secret:t-AbCdEf\n`);
  const r = spawnSync("bash", [SCRIPT], {
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env.PATH}`, ACTIONS: actions, BOOTSTRAP_ENV: config, STATE_DIR: join(root, "state"), BOOTSTRAP_LOG: join(root, "bootstrap.log") },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, actions: readFileSync(actions, "utf8").trim().split("\n").filter(Boolean), state: join(root, "state") };
}

describe("runner bootstrap failure", () => {
  it("stops at the failed step, records it, and marks the instance unhealthy through IMDSv2", () => {
    const r = run({ imds: "up" });
    expect(r.status).not.toBe(0);
    expect(readFileSync(join(r.state, "bootstrap.failed"), "utf8").trim()).toBe("install packages");
    expect(r.output).toContain("FAILED at step 'install packages'");
    expect(r.actions[0]).toBe("dnf install -y docker amazon-cloudwatch-agent rsyslog logrotate");
    expect(r.actions).toContain("aws autoscaling set-instance-health --region eu-west-3 --instance-id i-0123456789abcdef0 --health-status Unhealthy");
    // Nothing after the failed step ran (no runner download, no systemctl).
    expect(r.actions.filter((a) => !/^(dnf|curl|aws) /.test(a))).toEqual([]);
    expect(r.actions.filter((a) => a.startsWith("curl")).every((a) => a.includes("X-aws-ec2-metadata-token"))).toBe(true);
    expect(r.output).toContain("marked this instance unhealthy");
  });

  it("keeps the step's failure as the exit status when the metadata service is down", () => {
    const r = run({ imds: "down" });
    expect(r.status).toBe(1);
    expect(r.actions.some((a) => a.startsWith("aws "))).toBe(false);
    expect(r.output).toContain("could not mark this instance unhealthy");
    expect(existsSync(join(r.state, "bootstrap.failed"))).toBe(true);
  });

  it("fails on a config without a region, without calling AWS", () => {
    const r = run({ imds: "up", region: false });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("AWS_REGION");
    expect(r.actions.some((a) => a.startsWith("aws ") || a.startsWith("dnf "))).toBe(false);
  });
});
