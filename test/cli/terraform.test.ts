// `npm run plan -- <env>` and `npm run deploy -- <env>` drive Terraform, which cannot reach
// its providers on this machine: a stand-in `terraform` on PATH records where it ran and
// with which arguments, writes the plan file as `plan -out` does, and asks as `apply` does.
// GitLab's API (which the second stack, <env>-gitlab, waits for) is a local stand-in
// (test/support/fake-gitlab.ts); `docker exec` on the docker platform is a stand-in too.
// Most runs call the commands in this process (cliInProcess); real processes (cli/run.cjs,
// the bundle) run one plan and one deploy end to end, where Terraform's own output must reach
// the user's stdout in order with the command's, and the runs on a pseudo-terminal. Those run
// asynchronously (cliAsync, spawnCaptured), so the fake GitLab always answers from this process.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";
import { cliAsync, cliInProcess, spawnCaptured } from "../support/cli";
import { type FakeGitLab, startFakeGitLab } from "../support/fake-gitlab";
import { scratchWithExamples } from "../support/run-app";

const FAKE_TERRAFORM = `#!/bin/sh
# Records "<directory>|<arguments>" and behaves as much like terraform as the commands need.
# Started from the test's own process (run() below), it would share the worker's stdin and
# stdout: then it reads nothing (as from cliAsync()'s empty pipe), and prints to FAKE_TERRAFORM_OUTPUT.
if [ -n "\${FAKE_TERRAFORM_OUTPUT:-}" ]; then
  exec < /dev/null
  [ "$1" = show ] || exec >> "$FAKE_TERRAFORM_OUTPUT" 2>&1
fi
echo "$(pwd)|$*" >> "$FAKE_TERRAFORM_LOG"
echo "$(pwd)|GITLAB_TOKEN=\${GITLAB_TOKEN:-}" >> "$FAKE_TERRAFORM_LOG.env"
echo "$(pwd)|\${TF_HTTP_ADDRESS:-}|\${TF_HTTP_LOCK_ADDRESS:-}|\${TF_HTTP_UNLOCK_ADDRESS:-}" >> "$FAKE_TERRAFORM_LOG.state"
[ "$1" = "$FAKE_TERRAFORM_FAIL" ] && { echo "Error: $1 failed" >&2; exit 1; }
case "$1" in
  init) echo "Terraform has been successfully initialized!" ;;
  plan) for a in "$@"; do case "$a" in -out=*) echo "saved plan" > "\${a#-out=}" ;; esac; done
        echo "Plan: 2 to add, 1 to change, 1 to destroy." ;;
  show) echo '{"resource_changes":[{"change":{"actions":["create"]}},{"change":{"actions":["create"]}},{"change":{"actions":["update"]}},{"change":{"actions":["delete","create"]}},{"change":{"actions":["no-op"]}}]}' ;;
  apply) last=""; for a in "$@"; do last="$a"; done
         if [ "$last" = "plan.tfplan" ]; then [ -f plan.tfplan ] || exit 1; echo "Apply complete!"; exit 0; fi
         echo "Do you want to perform these actions?"; read -r answer
         [ "$answer" = "yes" ] || { echo "Apply cancelled."; exit 1; }
         echo "Apply complete!" ;;
esac
`;

/** `docker exec gitlab cat <token file>` prints the token from its FAKE_DOCKER_TOKEN_AFTER-th call on (1: at once). */
const FAKE_DOCKER = `#!/bin/sh
echo "$*" >> "$FAKE_DOCKER_LOG"
[ "$*" = "exec gitlab cat /etc/gitlab/gitlab-platform/automation-token" ] || { echo "unexpected: $*" >&2; exit 2; }
n=$(wc -l < "$FAKE_DOCKER_LOG")
[ "$n" -ge "\${FAKE_DOCKER_TOKEN_AFTER:-1}" ] || { echo "cat: can't open '/etc/gitlab/gitlab-platform/automation-token': No such file or directory" >&2; exit 1; }
echo "test-automation-token"
`;

let gitlab: FakeGitLab | undefined;
afterEach(() => gitlab?.stop());

/** A scratch copy of the examples, fake terraform and docker on PATH, and the fake GitLab answering `statuses`. */
async function setup(statuses: readonly number[] = [200], environment = "staging") {
  const s = scratchWithExamples("terraform-");
  const bin = join(s.dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "terraform"), FAKE_TERRAFORM);
  writeFileSync(join(bin, "docker"), FAKE_DOCKER);
  chmodSync(join(bin, "terraform"), 0o755);
  chmodSync(join(bin, "docker"), 0o755);
  gitlab = await startFakeGitLab(statuses);
  const log = join(s.dir, "terraform.log");
  const dockerLog = join(s.dir, "docker.log");
  const env: NodeJS.ProcessEnv = {
    GITLAB_CONFIG_DIR: s.configDir,
    CDKTF_OUTDIR: s.outdir,
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_TERRAFORM_LOG: log,
    FAKE_DOCKER_LOG: dockerLog,
    GITLAB_READINESS_URL: gitlab.url,
    GITLAB_READY_INTERVAL_SECONDS: "0.2",
    GITLAB_TOKEN: "",
  };
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trimEnd().split("\n") : []);
  const calls = () => lines(log);
  const stack = join(s.outdir, "stacks", environment);
  const content = join(s.outdir, "stacks", `${environment}-gitlab`);
  /** GITLAB_TOKEN as each terraform run saw it, by directory. */
  const tokens = () => lines(`${log}.env`);
  return { ...s, env, calls, stack, content, tokens, dockerCalls: () => lines(dockerLog), gitlab: gitlab! };
}

/**
 * The command in this process (cliInProcess). Terraform, which it starts with stdio "inherit",
 * would print to this worker's own stdout, past the capture, and wait on its stdin: the fake
 * reads nothing and prints to a file.
 */
function run(args: string[], env: NodeJS.ProcessEnv) {
  return cliInProcess(args, { ...env, FAKE_TERRAFORM_OUTPUT: `${env.FAKE_TERRAFORM_LOG}.out` });
}

/** Runs the command on a pseudo-terminal (util-linux `script`), typing `input`. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, input: string) {
  const command = [process.execPath, join(REPO_ROOT, "cli", "run.cjs"), ...args].map((a) => `'${a}'`).join(" ");
  return spawnCaptured("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, input });
}

describe("npm run plan -- <env>", () => {
  it("synthesizes the environment, then terraform init and plan -out in its stack directory, and prints the summary", async () => {
    const t = await setup([200], "staging");
    // A real process (the bundle): Terraform's own output reaches the user's stdout, before the summary.
    const r = await cliAsync(["plan", "staging"], t.env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const planned = (dir: string) => [
      `${dir}|init -input=false`,
      `${dir}|plan -input=false -lock-timeout=5m -out=plan.tfplan`,
      `${dir}|show -json plan.tfplan`,
    ];
    expect(t.calls()).toEqual([...planned(t.stack), ...planned(t.content)]);
    for (const dir of [t.stack, t.content]) {
      expect(existsSync(join(dir, "cdk.tf.json"))).toBe(true);
      expect(existsSync(join(dir, "plan.tfplan"))).toBe(true);
    }
    expect(r.stdout).toContain("Plan: 2 to add, 1 to change, 1 to destroy.");
    expect(r.stdout).toMatch(
      /\nstaging: 3 to create, 1 to update, 1 to delete; saved as \S+cdktf\.out\/stacks\/staging\/plan\.tfplan: apply it with npm run deploy -- staging\n/,
    );
    expect(r.stdout).toMatch(
      /\nstaging-gitlab: 3 to create, 1 to update, 1 to delete; saved as \S+cdktf\.out\/stacks\/staging-gitlab\/plan\.tfplan: apply it with npm run deploy -- staging\n$/,
    );
  });

  it("stops at the first Terraform step that fails, with its exit code", async () => {
    const t = await setup();
    const r = await run(["plan", "staging"], { ...t.env, FAKE_TERRAFORM_FAIL: "init" });
    expect(r.status).toBe(1);
    expect(t.calls()).toEqual([`${t.stack}|init -input=false`]);
  });

  it("takes exactly one environment", async () => {
    const t = await setup();
    expect((await run(["plan"], t.env)).stderr).toContain("usage: npm run plan -- <environment>");
    expect((await run(["plan", "staging", "production"], t.env)).status).toBe(2);
    expect(t.calls()).toEqual([]);
  });

  it("says what is missing when Terraform is not installed", async () => {
    const t = await setup();
    const r = await run(["plan", "staging"], { ...t.env, PATH: "/usr/bin:/bin", TERRAFORM: "terraform-not-installed" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "terraform: not found on PATH. plan and deploy run Terraform (>= 1.10); its first init downloads the providers, so it needs network access to the provider registry.\n",
    );
  });
});

describe("npm run deploy -- <env>", () => {
  it("applies the saved plan as it was reviewed, without synthesizing again, and removes it", async () => {
    const t = await setup();
    expect((await run(["plan", "staging"], t.env)).status).toBe(0);
    const synthesized = readFileSync(join(t.stack, "cdk.tf.json"), "utf8");
    const before = t.calls().length;
    const r = await run(["deploy", "staging"], t.env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const applied = (dir: string) => [`${dir}|init -input=false`, `${dir}|apply -input=false -lock-timeout=5m plan.tfplan`];
    expect(t.calls().slice(before)).toEqual([...applied(t.stack), ...applied(t.content)]);
    expect(existsSync(join(t.stack, "plan.tfplan"))).toBe(false);
    expect(existsSync(join(t.content, "plan.tfplan"))).toBe(false);
    expect(readFileSync(join(t.stack, "cdk.tf.json"), "utf8")).toBe(synthesized);
  });

  it("without a saved plan and without a terminal to ask on, applies nothing", async () => {
    const t = await setup();
    const r = await run(["deploy", "staging"], t.env);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "deploy: staging has no saved plan (npm run plan -- staging makes one), and there is no terminal to confirm a new plan on: nothing was applied. Run npm run plan -- staging, review it, then deploy.\n",
    );
    expect(t.calls()).toEqual([]);
  });

  it("treats a plan older than the last synth as no plan", async () => {
    const t = await setup();
    expect((await run(["plan", "staging"], t.env)).status).toBe(0);
    expect((await run(["synth", "staging"], t.env)).status).toBe(0);
    const before = t.calls().length;
    const r = await run(["deploy", "staging"], t.env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("deploy: the saved plan of staging is older than its last synth");
    expect(t.calls().slice(before)).toEqual([]);
  });

  it("on a terminal, without a saved plan: synthesizes, then lets terraform apply plan and ask", async () => {
    const t = await setup([200], "staging");
    const yes = await onTerminal(["deploy", "staging"], t.env, "yes\nyes\n");
    expect(yes.status, yes.stdout).toBe(0);
    expect(yes.stdout).toContain(
      "deploy: staging has no saved plan (npm run plan -- staging makes one): planning now; Terraform shows the plan and asks before it changes anything.",
    );
    expect(yes.stdout).toContain("Apply complete!");
    expect(t.calls()).toEqual([
      `${t.stack}|init -input=false`,
      `${t.stack}|apply -lock-timeout=5m`,
      `${t.content}|init -input=false`,
      `${t.content}|apply -lock-timeout=5m`,
    ]);
    const no = await onTerminal(["deploy", "staging"], t.env, "no\n");
    expect(no.status).toBe(1);
    expect(no.stdout).toContain("Apply cancelled.");
  });
});

describe("the second stack (<env>-gitlab): GitLab must answer first", () => {
  it("plan on a first deploy (GitLab not answering): plans the first stack only and says how the second gets planned", async () => {
    const t = await setup([502]);
    mkdirSync(t.content, { recursive: true });
    const r = await run(["plan", "staging"], t.env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(t.calls().every((c) => c.startsWith(`${t.stack}|`))).toBe(true);
    expect(existsSync(join(t.stack, "plan.tfplan"))).toBe(true);
    expect(existsSync(join(t.content, "plan.tfplan"))).toBe(false);
    expect(r.stdout).toContain(
      `== staging-gitlab: not planned: GitLab cannot be reached yet (${t.gitlab.url}: HTTP 502). npm run deploy -- staging applies staging, waits for GitLab, then plans staging-gitlab and asks.`,
    );
  });

  it("deploy: applies the first stack's saved plan, waits until GitLab answers, then applies the second's", async () => {
    const t = await setup([200]);
    expect((await run(["plan", "staging"], t.env)).status).toBe(0);
    t.gitlab.stop();
    gitlab = await startFakeGitLab([502, 503, 200]);
    const before = t.calls().length;
    // A real process (the bundle): Terraform's own output reaches the user's stdout, in order with the wait's.
    const r = await cliAsync(["deploy", "staging"], { ...t.env, GITLAB_READINESS_URL: gitlab.url });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const applied = (dir: string) => [`${dir}|init -input=false`, `${dir}|apply -input=false -lock-timeout=5m plan.tfplan`];
    expect(t.calls().slice(before)).toEqual([...applied(t.stack), ...applied(t.content)]);
    expect(gitlab.requests().map((q) => q.status)).toEqual([502, 503, 200]);
    expect(r.stdout).toMatch(
      /== staging-gitlab: waiting for GitLab at http:\/\/127\.0\.0\.1:\d+\/api\/v4\/version \(up to 20 min\)\nnot yet: HTTP 502\nnot yet: HTTP 503\nGitLab answers \(HTTP 200\)\./,
    );
    // The first stack was applied before GitLab was asked: the server may not exist until then.
    expect(r.stdout.indexOf("Apply complete!")).toBeLessThan(r.stdout.indexOf("waiting for GitLab"));
  });

  it("deploy: gives up after GITLAB_READY_TIMEOUT_SECONDS with what to do; the first stack is applied, the second not", async () => {
    const t = await setup([200]);
    expect((await run(["plan", "staging"], t.env)).status).toBe(0);
    t.gitlab.stop();
    gitlab = await startFakeGitLab([502]);
    const before = t.calls().length;
    const r = await run(["deploy", "staging"], { ...t.env, GITLAB_READINESS_URL: gitlab.url, GITLAB_READY_TIMEOUT_SECONDS: "1" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `deploy: GitLab did not answer at ${gitlab.url} within 1 s (last: HTTP 502). staging is applied; staging-gitlab was not. Check that GitLab started (docs/operations.md, "First deploy"), then run npm run deploy -- staging again (GITLAB_READY_TIMEOUT_SECONDS waits longer).\n`,
    );
    expect(
      t
        .calls()
        .slice(before)
        .every((c) => c.startsWith(`${t.stack}|`)),
    ).toBe(true);
    expect(existsSync(join(t.content, "plan.tfplan"))).toBe(true);
    expect(gitlab.requests().length).toBeGreaterThan(1);
  });

  it("deploy without the second stack's plan (GitLab was down at plan time) and no terminal: applies the first, refuses the second; a plan made now includes it", async () => {
    const t = await setup([502]);
    expect((await run(["plan", "staging"], t.env)).status).toBe(0);
    t.gitlab.stop();
    gitlab = await startFakeGitLab([200]);
    const env = { ...t.env, GITLAB_READINESS_URL: gitlab.url };
    const before = t.calls().length;
    const r = await run(["deploy", "staging"], env);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "deploy: staging-gitlab has no saved plan (GitLab could not be reached when staging was planned), and there is no terminal to confirm one on: it was not applied. Run npm run plan -- staging now that GitLab answers, review it, then deploy.\n",
    );
    expect(t.calls().slice(before)).toEqual([`${t.stack}|init -input=false`, `${t.stack}|apply -input=false -lock-timeout=5m plan.tfplan`]);
    // Planned again now that GitLab answers, on a terminal: the second stack's apply asks.
    expect((await run(["plan", "staging"], env)).status).toBe(0);
    expect(existsSync(join(t.content, "plan.tfplan"))).toBe(true);
  });

  it("docker: the CLI reads the automation token from the GitLab container for the second stack only, waiting until the bootstrap wrote it", async () => {
    const t = await setup([200], "homelab");
    const r = await onTerminal(["deploy", "homelab"], { ...t.env, FAKE_DOCKER_TOKEN_AFTER: "3" }, "yes\nyes\n");
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain("not yet: docker exec gitlab cat /etc/gitlab/gitlab-platform/automation-token: cat: can't open");
    expect(t.dockerCalls()).toEqual(Array(3).fill("exec gitlab cat /etc/gitlab/gitlab-platform/automation-token"));
    expect(t.tokens()).toEqual([
      `${t.stack}|GITLAB_TOKEN=`,
      `${t.stack}|GITLAB_TOKEN=`,
      `${t.content}|GITLAB_TOKEN=test-automation-token`,
      `${t.content}|GITLAB_TOKEN=test-automation-token`,
    ]);
    expect(t.gitlab.requests()).toEqual([{ path: "/api/v4/version", token: "test-automation-token", status: 200 }]);
    expect(r.stdout).not.toContain("test-automation-token");
  });

  it("docker: a GITLAB_TOKEN already set is used as it is; one GitLab refuses stops the deploy at once", async () => {
    const t = await setup([200], "homelab");
    expect((await run(["plan", "homelab"], { ...t.env, GITLAB_TOKEN: "operator-token" })).status).toBe(0);
    expect(t.dockerCalls()).toEqual([]);
    expect(t.tokens().filter((l) => l.startsWith(t.content))).toEqual(Array(3).fill(`${t.content}|GITLAB_TOKEN=operator-token`));
    t.gitlab.stop();
    gitlab = await startFakeGitLab([401]);
    const r = await run(["deploy", "homelab"], {
      ...t.env,
      GITLAB_TOKEN: "operator-token",
      GITLAB_READINESS_URL: gitlab.url,
      GITLAB_READY_TIMEOUT_SECONDS: "600",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "HTTP 401: the automation token was refused. homelab-gitlab was not applied: GITLAB_TOKEN (or the token file in the GitLab container) is not a valid admin token",
    );
    expect(gitlab.requests()).toHaveLength(1);
  });
});

describe("GitLab-managed state: each stack its own", () => {
  const base = "https://gitlab.example.com/api/v4/projects/7/terraform/state";

  it("the second stack's TF_HTTP_* addresses are the environment's, with <env>-gitlab for <env>", async () => {
    const t = await setup([200], "homelab");
    const state = {
      TF_HTTP_ADDRESS: `${base}/homelab`,
      TF_HTTP_LOCK_ADDRESS: `${base}/homelab/lock`,
      TF_HTTP_UNLOCK_ADDRESS: `${base}/homelab/lock`,
      GITLAB_TOKEN: "operator-token",
    };
    const r = await run(["plan", "homelab"], { ...t.env, ...state });
    expect(r.status, r.stderr).toBe(0);
    const seen = readFileSync(`${join(t.dir, "terraform.log")}.state`, "utf8")
      .trimEnd()
      .split("\n");
    expect(new Set(seen.filter((l) => l.startsWith(`${t.stack}|`)))).toEqual(new Set([`${t.stack}|${base}/homelab|${base}/homelab/lock|${base}/homelab/lock`]));
    expect(new Set(seen.filter((l) => l.startsWith(`${t.content}|`)))).toEqual(
      new Set([`${t.content}|${base}/homelab-gitlab|${base}/homelab-gitlab/lock|${base}/homelab-gitlab/lock`]),
    );
  });

  it("refuses, before running anything, an address it cannot derive the second stack's from", async () => {
    const t = await setup([200], "homelab");
    const r = await run(["plan", "homelab"], { ...t.env, TF_HTTP_ADDRESS: `${base}/my-homelab-state`, GITLAB_TOKEN: "operator-token" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `TF_HTTP_ADDRESS=${base}/my-homelab-state does not end in /terraform/state/homelab: homelab-gitlab keeps its own state beside homelab's`,
    );
    expect(t.calls()).toEqual([]);
  });
});
