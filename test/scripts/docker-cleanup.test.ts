// Runs the real cleanup script against a fake `docker` that records what it was asked to do.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";

const SCRIPT = join(REPO_ROOT, "userdata/scripts/docker-cleanup.sh");

function run(env: Record<string, string>, dockerExit = 0) {
  const dir = mkdtempSync(join(tmpdir(), "cleanup-"));
  const log = join(dir, "docker.log");
  writeFileSync(join(dir, "docker"), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${log}"\nexit ${dockerExit}\n`);
  chmodSync(join(dir, "docker"), 0o755);
  const r = spawnSync("sh", [SCRIPT], { env: { PATH: `${dir}:/usr/bin:/bin`, ...env }, encoding: "utf8" });
  let calls: string[] = [];
  try {
    calls = readFileSync(log, "utf8").trim().split("\n");
  } catch {
    calls = [];
  }
  return { status: r.status, stderr: r.stderr, calls };
}

describe("docker-cleanup.sh", () => {
  it("prunes old unused data and anonymous volumes, always sparing the platform's labelled objects", () => {
    const r = run({ CLEANUP_OLDER_THAN: "4h" });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      "system prune --all --force --filter until=4h --filter label!=gitlab-platform.keep",
      "volume prune --force --filter label!=gitlab-platform.keep",
    ]);
  });

  it("never combines --volumes with until (Docker refuses it) and never prunes named volumes", () => {
    const calls = run({ CLEANUP_OLDER_THAN: "4h" }).calls.join("\n");
    expect(calls).not.toContain("--volumes");
    expect(calls).not.toContain("all=true");
    expect(readFileSync(SCRIPT, "utf8")).not.toMatch(/\brm\s+-/);
  });

  it("refuses to run without an age limit, so it cannot prune what running jobs just pulled", () => {
    const r = run({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("CLEANUP_OLDER_THAN is not set");
    expect(r.calls).toEqual([]);
  });

  it("fails visibly when Docker fails", () => {
    const r = run({ CLEANUP_OLDER_THAN: "4h" }, 1);
    expect(r.status).not.toBe(0);
    expect(r.calls).toHaveLength(1);
  });
});
