// Synthesis never destroys what it did not create. The cdktf CLI deletes every directory
// under <outdir>/stacks/ that the manifest written by the app does not name (cdktf-cli's
// SynthStack.synth, "orphanedDirectories"), with whatever Terraform kept there; the app's
// manifest therefore names the stacks it left as they were. Checked through both documented
// ways to synthesize one environment, with the real cdktf CLI.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { notSynthesizedMarker } from "../../stacks/manifest";
import { exampleEnvironments, stackNamesOf } from "../helpers";
import { type Scratch, scratchWithExamples } from "../support/run-app";
import { cdktf, cliInProcess } from "../support/cli";

/**
 * An earlier `npm run synth` of every example, and what Terraform leaves in homelab's
 * directory: made once, each test works in its own copy (nothing here looks at mtimes).
 * The npm commands run in this process (cliInProcess): the cdktf CLI's runs below are what
 * this file proves with real processes.
 */
let earlier: Scratch;
beforeAll(async () => {
  earlier = scratchWithExamples("keeps-stacks-");
  expect((await cliInProcess(["synth"], { GITLAB_CONFIG_DIR: earlier.configDir, CDKTF_OUTDIR: earlier.outdir })).status).toBe(0);
  const homelab = join(earlier.outdir, "stacks", "homelab");
  mkdirSync(join(homelab, ".terraform", "providers"), { recursive: true });
  writeFileSync(join(homelab, ".terraform", "terraform.tfstate"), "{}");
  writeFileSync(join(homelab, "errored.tfstate"), '{"version":4,"serial":42}');
  writeFileSync(join(homelab, ".terraform.lock.hcl"), "# lock\n");
});

/** A copy of the earlier run (config and output) in a fresh directory. */
function earlierRun() {
  const dir = mkdtempSync(join(tmpdir(), "keeps-stacks-"));
  cpSync(earlier.dir, dir, { recursive: true });
  const s = { dir, configDir: join(dir, "config"), outdir: join(dir, "cdktf.out") };
  const env = { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir };
  const homelab = join(s.outdir, "stacks", "homelab");
  return { ...s, env, homelab, stackBefore: readFileSync(join(homelab, "cdk.tf.json"), "utf8") };
}

function expectUntouched(r: ReturnType<typeof earlierRun>) {
  expect(readFileSync(join(r.homelab, "errored.tfstate"), "utf8")).toBe('{"version":4,"serial":42}');
  expect(existsSync(join(r.homelab, ".terraform", "terraform.tfstate"))).toBe(true);
  expect(existsSync(join(r.homelab, ".terraform.lock.hcl"))).toBe(true);
  expect(readFileSync(join(r.homelab, "cdk.tf.json"), "utf8")).toBe(r.stackBefore);
}

describe("synthesizing one environment leaves the others' stack directories as they were", () => {
  it("npm run synth -- staging", async () => {
    const r = earlierRun();
    const run = await cliInProcess(["synth", "staging"], r.env);
    expect(run.stderr).toBe("");
    const others = stackNamesOf(exampleEnvironments().map((e) => e.name)).filter((n) => !n.startsWith("staging"));
    expect(run.stdout).toMatch(
      new RegExp(
        `^staging +\\d+ resources  .*stacks/staging\nstaging-gitlab +\\d+ resources  .*stacks/staging-gitlab\nleft as they were: ${others.join(", ")}\n$`,
      ),
    );
    expectUntouched(r);
    const manifest = JSON.parse(readFileSync(join(r.outdir, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.stacks)).toEqual(stackNamesOf(exampleEnvironments().map((e) => e.name)));
    expect(manifest.stacks.homelab.dependencies).toEqual([notSynthesizedMarker("homelab")]);
    expect(manifest.stacks.staging.dependencies).toEqual([]);
    expect(manifest.stacks["staging-gitlab"].dependencies).toEqual(["staging"]);
  });

  it("GITLAB_ENVIRONMENTS=staging npx cdktf synth (the cdktf CLI deletes stack directories its manifest does not name)", () => {
    const r = earlierRun();
    const run = cdktf(["synth", "--output", r.outdir], { ...r.env, GITLAB_ENVIRONMENTS: "staging" });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expectUntouched(r);
    expect(existsSync(join(r.outdir, "stacks", "production", "cdk.tf.json"))).toBe(true);
  }, 180_000);

  it("npx cdktf deploy of a stack this run did not synthesize stops, naming what to do", () => {
    const r = earlierRun();
    const run = cdktf(["deploy", "homelab", "--output", r.outdir, "--auto-approve"], { ...r.env, GITLAB_ENVIRONMENTS: "staging" });
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(`The following dependencies are not included in the stacks to run: ${notSynthesizedMarker("homelab")}`);
    expectUntouched(r);
  }, 180_000);

  it("a stack directory the manifest cannot name (no cdk.tf.json) stops the cdktf CLI's synth before it deletes it", () => {
    const r = earlierRun();
    const orphan = join(r.outdir, "stacks", "qa");
    mkdirSync(orphan, { recursive: true });
    writeFileSync(join(orphan, "errored.tfstate"), "{}");
    const run = cdktf(["synth", "--output", r.outdir], { ...r.env, GITLAB_ENVIRONMENTS: "staging" });
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(
      "stacks/qa: holds files but no cdk.tf.json: the cdktf CLI deletes every stack directory its manifest does not name",
    );
    expect(existsSync(join(orphan, "errored.tfstate"))).toBe(true);
    expectUntouched(r);
  }, 180_000);
});
