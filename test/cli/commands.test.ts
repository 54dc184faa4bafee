// `npm run synth|check` and the app as cdktf runs it: output fit for a terminal and for CI
// logs. Each problem once, no spinner frames or colour codes, one line per stack written.
// The commands run in this process (cliInProcess) but one, a real process through the bundle.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exampleEnvironments, stackNamesOf } from "../helpers";
import { cli, cliInProcess } from "../support/cli";
import { scratchWithExamples } from "../support/run-app";

const EXAMPLES = exampleEnvironments().map((e) => e.name);
const SPINNER = new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|${String.fromCharCode(27)}\\[`);

function brokenScratch() {
  const s = scratchWithExamples("commands-");
  const file = join(s.configDir, "homelab.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace("sshPort: 2222", "sshPort: 99999"));
  return { ...s, env: { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir } };
}

describe("npm run synth", () => {
  it("prints one line per stack with its resource count, and nothing else", async () => {
    const s = scratchWithExamples("commands-");
    const r = await cliInProcess(["synth"], { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(stackNamesOf(EXAMPLES));
    for (const l of lines) expect(l).toMatch(/^[a-z0-9-]+ +\d+ resources {2}\S+cdktf\.out\/stacks\/[a-z0-9-]+$/);
    const staging = JSON.parse(readFileSync(join(s.outdir, "stacks", "staging", "cdk.tf.json"), "utf8"));
    const count = Object.values(staging.resource as Record<string, object>).reduce((n, byName) => n + Object.keys(byName).length, 0);
    expect(lines[stackNamesOf(EXAMPLES).indexOf("staging")]).toContain(` ${count} resources`);
    expect(r.stdout).not.toMatch(SPINNER);
  });

  it("prints each config problem once, with no spinner frames, whether run as npm run synth or as cdktf's app", async () => {
    const s = brokenScratch();
    for (const args of [["synth"], ["app"], ["check"]]) {
      const r = await cliInProcess(args, s.env);
      expect(r.status, args.join(" ")).toBe(1);
      const output = r.stdout + r.stderr;
      expect(output.match(/gitlab\.sshPort: must be at most 65535, got 99999/g), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toMatch(/\n1 problem\(s\) found; nothing was synthesized\.\n$/);
      expect(output).not.toMatch(SPINNER);
    }
  });

  it("names an unknown environment and lists the known ones", async () => {
    const s = scratchWithExamples("commands-");
    const r = await cliInProcess(["synth", "qa"], { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`qa.yaml: (file): no such environment; known: ${EXAMPLES.join(", ")}\n`);
    for (const command of ["plan", "deploy", "cost"]) {
      const other = await cliInProcess([command, "qa"], { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
      expect(other.stderr, command).toContain(`no such environment; known: ${EXAMPLES.join(", ")}`);
    }
  });

  it("says in one line that GITLAB_CONFIG_DIR points nowhere", () => {
    // A real process (the bundle): its exit code, and nothing from Node on stderr.
    const r = cli(["synth"], { GITLAB_CONFIG_DIR: "/nowhere/at/all" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "/nowhere/at/all: no such directory; it should hold the environment files (<env>.yaml) — GITLAB_CONFIG_DIR points there: fix it, or unset it to use config/\n",
    );
  });

  it("answers an unknown command with the usage", async () => {
    const r = await cliInProcess(["synthesize"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'synthesize'");
    expect(r.stderr).toContain("npm run plan -- <env>");
  });
});

describe("npm run check", () => {
  it("validates every environment and runs the policies without writing anything", async () => {
    const s = scratchWithExamples("commands-");
    const r = await cliInProcess(["check"], { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(
      new RegExp(
        `^check: ${EXAMPLES.length} environment\\(s\\) in \\S+ valid, ${stackNamesOf(EXAMPLES).length} stack\\(s\\) and \\d+ resources pass the policies\n$`,
      ),
    );
    expect(r.status).toBe(0);
    expect(() => readFileSync(join(s.outdir, "manifest.json"))).toThrow();
  });

  it("fails on a policy violation, naming it", async () => {
    const s = scratchWithExamples("commands-");
    const file = join(s.configDir, "staging.yaml");
    writeFileSync(
      file,
      `${readFileSync(file, "utf8")}\npolicy:\n  suppressions:\n    - rule: AWS-SG-INGRESS\n      path: staging/gitlab-server/ingress-git-ssh-ipv6\n      reason: IPv6 git SSH for the Berlin office until their VPN lands\n`,
    );
    const r = await cliInProcess(["check"], { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "[staging] policy.suppressions: { rule: AWS-SG-INGRESS, path: staging/gitlab-server/ingress-git-ssh-ipv6 } matches no violation",
    );
    expect(r.stderr).toMatch(/1 policy violation\(s\) found; nothing was synthesized\.\n$/);
  });
});
