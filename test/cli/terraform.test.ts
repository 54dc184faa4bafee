// `npm run plan -- <env>` and `npm run deploy -- <env>` drive Terraform, which cannot reach
// its providers on this machine: a stand-in `terraform` on PATH records where it ran and
// with which arguments, writes the plan file as `plan -out` does, and asks as `apply` does.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";
import { cli } from "../support/cli";
import { scratchWithExamples } from "../support/run-app";

const FAKE_TERRAFORM = `#!/bin/sh
# Records "<directory>|<arguments>" and behaves as much like terraform as the commands need.
echo "$(pwd)|$*" >> "$FAKE_TERRAFORM_LOG"
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

function setup() {
  const s = scratchWithExamples("terraform-");
  const bin = join(s.dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "terraform"), FAKE_TERRAFORM);
  chmodSync(join(bin, "terraform"), 0o755);
  const log = join(s.dir, "terraform.log");
  const env = { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir, PATH: `${bin}:${process.env.PATH}`, FAKE_TERRAFORM_LOG: log };
  const calls = () => (existsSync(log) ? readFileSync(log, "utf8").trimEnd().split("\n") : []);
  const stack = join(s.outdir, "stacks", "staging");
  const content = join(s.outdir, "stacks", "staging-gitlab");
  return { ...s, env, calls, stack, content };
}

/** Runs the command on a pseudo-terminal (util-linux `script`), typing `input`. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv, input: string) {
  const command = [process.execPath, join(REPO_ROOT, "cli", "run.cjs"), ...args].map((a) => `'${a}'`).join(" ");
  return spawnSync("script", ["-qec", command, "/dev/null"], { cwd: REPO_ROOT, env: { ...process.env, ...env }, input, encoding: "utf8", timeout: 120_000 });
}

describe("npm run plan -- <env>", () => {
  it("synthesizes the environment, then terraform init and plan -out in its stack directory, and prints the summary", () => {
    const t = setup();
    const r = cli(["plan", "staging"], t.env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const planned = (dir: string) => [`${dir}|init -input=false`, `${dir}|plan -input=false -lock-timeout=5m -out=plan.tfplan`, `${dir}|show -json plan.tfplan`];
    expect(t.calls()).toEqual([...planned(t.stack), ...planned(t.content)]);
    for (const dir of [t.stack, t.content]) {
      expect(existsSync(join(dir, "cdk.tf.json"))).toBe(true);
      expect(existsSync(join(dir, "plan.tfplan"))).toBe(true);
    }
    expect(r.stdout).toContain("Plan: 2 to add, 1 to change, 1 to destroy.");
    expect(r.stdout).toMatch(/\nstaging: 3 to create, 1 to update, 1 to delete; saved as \S+cdktf\.out\/stacks\/staging\/plan\.tfplan: apply it with npm run deploy -- staging\n/);
    expect(r.stdout).toMatch(/\nstaging-gitlab: 3 to create, 1 to update, 1 to delete; saved as \S+cdktf\.out\/stacks\/staging-gitlab\/plan\.tfplan: apply it with npm run deploy -- staging\n$/);
  });

  it("stops at the first Terraform step that fails, with its exit code", () => {
    const t = setup();
    const r = cli(["plan", "staging"], { ...t.env, FAKE_TERRAFORM_FAIL: "init" });
    expect(r.status).toBe(1);
    expect(t.calls()).toEqual([`${t.stack}|init -input=false`]);
  });

  it("takes exactly one environment", () => {
    const t = setup();
    expect(cli(["plan"], t.env).stderr).toContain("usage: npm run plan -- <environment>");
    expect(cli(["plan", "staging", "production"], t.env).status).toBe(2);
    expect(t.calls()).toEqual([]);
  });

  it("says what is missing when Terraform is not installed", () => {
    const t = setup();
    const r = cli(["plan", "staging"], { ...t.env, PATH: "/usr/bin:/bin", TERRAFORM: "terraform-not-installed" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "terraform: not found on PATH. plan and deploy run Terraform (>= 1.10); its first init downloads the providers, so it needs network access to the provider registry.\n",
    );
  });
});

describe("npm run deploy -- <env>", () => {
  it("applies the saved plan as it was reviewed, without synthesizing again, and removes it", () => {
    const t = setup();
    expect(cli(["plan", "staging"], t.env).status).toBe(0);
    const synthesized = readFileSync(join(t.stack, "cdk.tf.json"), "utf8");
    const before = t.calls().length;
    const r = cli(["deploy", "staging"], t.env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const applied = (dir: string) => [`${dir}|init -input=false`, `${dir}|apply -input=false -lock-timeout=5m plan.tfplan`];
    expect(t.calls().slice(before)).toEqual([...applied(t.stack), ...applied(t.content)]);
    expect(existsSync(join(t.stack, "plan.tfplan"))).toBe(false);
    expect(existsSync(join(t.content, "plan.tfplan"))).toBe(false);
    expect(readFileSync(join(t.stack, "cdk.tf.json"), "utf8")).toBe(synthesized);
  });

  it("without a saved plan and without a terminal to ask on, applies nothing", () => {
    const t = setup();
    const r = cli(["deploy", "staging"], t.env);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "deploy: staging has no saved plan (npm run plan -- staging makes one), and there is no terminal to confirm a new plan on: nothing was applied. Run npm run plan -- staging, review it, then deploy.\n",
    );
    expect(t.calls()).toEqual([]);
  });

  it("treats a plan older than the last synth as no plan", () => {
    const t = setup();
    expect(cli(["plan", "staging"], t.env).status).toBe(0);
    expect(cli(["synth", "staging"], t.env).status).toBe(0);
    const before = t.calls().length;
    const r = cli(["deploy", "staging"], t.env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("deploy: the saved plan of staging is older than its last synth");
    expect(t.calls().slice(before)).toEqual([]);
  });

  it("on a terminal, without a saved plan: synthesizes, then lets terraform apply plan and ask", () => {
    const t = setup();
    const yes = onTerminal(["deploy", "staging"], t.env, "yes\nyes\n");
    expect(yes.status, yes.stdout).toBe(0);
    expect(yes.stdout).toContain("deploy: staging has no saved plan (npm run plan -- staging makes one): planning now; Terraform shows the plan and asks before it changes anything.");
    expect(yes.stdout).toContain("Apply complete!");
    expect(t.calls()).toEqual([`${t.stack}|init -input=false`, `${t.stack}|apply -lock-timeout=5m`, `${t.content}|init -input=false`, `${t.content}|apply -lock-timeout=5m`]);
    const no = onTerminal(["deploy", "staging"], t.env, "no\n");
    expect(no.status).toBe(1);
    expect(no.stdout).toContain("Apply cancelled.");
  });
});
