// CI refuses environments whose state would die with the job's workspace.
import { describe, expect, it } from "vitest";
import { remoteStateProblem } from "../../scripts/ci/require-remote-state";
import { exampleEnvironments, exampleYaml, synthEnvironment, synthToDisk, validEnvironment } from "../helpers";

describe("remote state in CI", () => {
  it("refuses a local backend, naming the file and field and where to read on", () => {
    const c = exampleYaml("homelab");
    c.state = { backend: "local" };
    const problem = remoteStateProblem("homelab", synthEnvironment(validEnvironment(c, "homelab")));
    expect(problem).toMatch(/^config\/homelab\.yaml: state\.backend: 'local' keeps Terraform state in a file inside the CI job/);
    expect(problem).toContain("docs/operations.md");
  });

  it("refuses a stack without any backend block (Terraform's implicit local state)", () => {
    expect(remoteStateProblem("x", { terraform: {} })).toContain("state.backend: 'local'");
  });

  it("accepts s3 and gitlab", () => {
    expect(remoteStateProblem("x", { terraform: { backend: { s3: { bucket: "b" } } } })).toBeUndefined();
    expect(remoteStateProblem("x", { terraform: { backend: { http: {} } } })).toBeUndefined();
  });

  it("passes every example environment as cdktf synth writes it, so this repository's own pipeline can plan them", () => {
    for (const [name, stack] of Object.entries(synthToDisk(exampleEnvironments()))) expect(remoteStateProblem(name, stack), name).toBeUndefined();
  });

  it("refuses a stack that also carries a local backend beside a remote one (Terraform refuses two)", () => {
    expect(remoteStateProblem("x", { terraform: { backend: { http: {}, local: { path: "x" } } } })).toBe(
      "cdktf.out/stacks/x: 2 Terraform backends (http, local); Terraform accepts one (a bug in stacks/backend.ts)",
    );
  });
});
