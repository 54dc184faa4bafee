// The reference homelab's `build-image` job, as the homelab runs it (docs/examples/build-image.gitlab-ci.yml):
// build jobs are unprivileged and have no Docker daemon, so images are built and pushed by the
// protected deploy runner (the host's Docker), on the default branch only. The example must be
// valid for GitLab (gitlab-ci-local) and keep that boundary.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { exampleStack, REPO_ROOT, resources } from "../examples";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { parse as parseToml } from "smol-toml";

const EXAMPLE = join(REPO_ROOT, "docs/examples/build-image.gitlab-ci.yml");
const GITLAB_CI_LOCAL = join(REPO_ROOT, "node_modules/.bin/gitlab-ci-local");

/** The jobs gitlab-ci-local lists on `branch`; the JSON schema is checked only where `validate` (it is half a run's CPU). */
function listJobs(branch: string, validate: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "build-image-"));
  const git = (...a: string[]) => execFileSync("git", ["-c", "user.email=ci@example.com", "-c", "user.name=ci", ...a], { cwd: dir });
  git("init", "-q", "-b", branch);
  writeFileSync(join(dir, ".gitlab-ci.yml"), readFileSync(EXAMPLE, "utf8"));
  writeFileSync(join(dir, "Dockerfile"), "FROM alpine:3.20\n");
  git("add", "-A");
  git("commit", "-qm", "example");
  const r = spawnSync(GITLAB_CI_LOCAL, ["--list", ...(validate ? [] : ["--no-json-schema-validation"])], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, CI: undefined, CI_DEFAULT_BRANCH: "main" },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}`, jobs: r.stdout.split("\n").map((l) => l.split(/\s+/)[0]) };
}

describe("the build-image example", () => {
  const ci = parse(readFileSync(EXAMPLE, "utf8")) as Record<string, any>;

  it("builds and pushes on the protected deploy runner, only on the default branch", () => {
    const job = ci["build-image"];
    expect(job.tags).toEqual(["deploy"]);
    expect(job.rules).toEqual([{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" }]);
    expect(job.script.join("\n")).toMatch(/docker build[^\n]*\$CI_REGISTRY_IMAGE:\$CI_COMMIT_SHORT_SHA/);
    expect(job.script.join("\n")).toMatch(/docker push "?\$CI_REGISTRY_IMAGE:\$CI_COMMIT_SHORT_SHA/);
    expect(job.script.join("\n")).toContain("--password-stdin");
    expect(ci.deploy.tags).toEqual(["deploy"]);
  });

  it("is valid for GitLab, and a branch pipeline has no job for the deploy runner", () => {
    const main = listJobs("main", true);
    expect(main.output).toContain("json schema validated");
    expect(main.status, main.output).toBe(0);
    expect(main.jobs).toEqual(expect.arrayContaining(["build-image", "deploy"]));
    const feature = listJobs("feature", false);
    expect(feature.status, feature.output).toBe(0);
    expect(feature.jobs).not.toContain("build-image");
    expect(feature.jobs).not.toContain("deploy");
  });

  it("runs where Docker is: the deploy runner's jobs have the socket, the build runner's do not", () => {
    // The runner containers are homelab-gitlab's.
    const containers = resources(exampleStack("homelab-gitlab"), "docker_container");
    const config = (name: string) =>
      (
        parseToml(
          unescapeTemplate(containers.find((c) => c.name === name).upload.find((u: any) => u.file === "/etc/gitlab-runner/config.toml.template").content),
        ) as any
      ).runners[0].docker;
    expect(config("gitlab-runner-deploy").volumes).toContain("/var/run/docker.sock:/var/run/docker.sock");
    expect(config("gitlab-runner-build").volumes).not.toContain("/var/run/docker.sock:/var/run/docker.sock");
    expect(config("gitlab-runner-build").privileged).toBe(false);
  });
});
