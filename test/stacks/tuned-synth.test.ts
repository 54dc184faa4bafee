// synthEnvironments tunes cdktf (each stack resolved once, no cross-stack preparation for an
// environment's only stack, no per-token stack traces): it must write byte for byte what
// cdktf's own App.synth writes for the same stacks.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { App } from "cdktf";
import { describe, expect, it } from "vitest";
import { addEnvironmentStack, synthEnvironments } from "../../stacks/app";
import { tuneForSynth } from "../../stacks/synth-tuning";
import { exampleEnvironments } from "../helpers";
import { withCdktfStackTraces } from "../setup/cdktf-stack-traces";

function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, "latin1");
    }
  };
  walk(dir);
  return out;
}

describe("the tuned synth", () => {
  it("writes what cdktf's own synth writes", () => {
    const envs = exampleEnvironments();
    const plain = mkdtempSync(join(tmpdir(), "plain-synth-"));
    // cdktf as it comes: a stack trace recorded for every token (the test setup switches them off, as the app does).
    withCdktfStackTraces(() => {
      const app = new App({ outdir: plain });
      for (const env of envs) addEnvironmentStack(app, env);
      app.synth();
    });
    const tuned = join(mkdtempSync(join(tmpdir(), "tuned-synth-")), "cdktf.out");
    tuneForSynth({});
    synthEnvironments(envs, tuned);
    const a = files(plain);
    const b = files(tuned);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const [file, text] of Object.entries(a)) expect(b[file], file).toBe(text);
  });
});
