// Suppressions end to end: written in an environment's YAML, parsed by config, handed to the
// stack's PolicyAspect, applied at a real synth.
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Container } from "@cdktf/provider-docker/lib/container";
import { App, type TerraformStack } from "cdktf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addEnvironmentStack } from "../../stacks/app";
import { asValidationError, SynthValidationError } from "../../stacks/validation-error";
import { exampleYaml, validEnvironment } from "../helpers";

interface Suppression {
  rule: string;
  path: string;
  reason: string;
}

/** The example environment's YAML with these suppressions, through config parsing, as `cdktf synth` runs it (plus test-only resources). */
function synthProblems(
  example: "staging" | "homelab",
  suppressions: Suppression[],
  addTestResources: (stack: TerraformStack) => void = () => {},
  stackName: string = example,
): string[] {
  const env = validEnvironment({ ...exampleYaml(example), policy: { suppressions } }, example);
  expect(env.policy.suppressions).toEqual(suppressions);
  const outdir = mkdtempSync(join(tmpdir(), "suppressions-"));
  const app = new App({ outdir });
  addEnvironmentStack(app, env);
  addTestResources(app.node.findChild(stackName) as TerraformStack);
  try {
    app.synth();
    return [];
  } catch (error) {
    const problem = asValidationError(error);
    if (!(problem instanceof SynthValidationError)) throw problem;
    // Without the rationale and the how-to-suppress hint, which the aspect's own test covers.
    return problem.problems.map((p) => p.replace(/\. \(.*$/, ""));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Two instances without IMDSv2; `legacy` also has an unencrypted root disk. */
function legacyInstances(stack: TerraformStack) {
  new Instance(stack, "legacy", { ami: "ami-0123456789abcdef0", instanceType: "t3.micro" });
  new Instance(stack, "other", { ami: "ami-0123456789abcdef0", instanceType: "t3.micro", rootBlockDevice: { encrypted: true } });
}

/** A privileged container on the host's network. */
function debugContainer(stack: TerraformStack) {
  new Container(stack, "debug", { name: "debug", image: "alpine:3.20.3", privileged: true, networkMode: "host" });
}

const reason = "vendor agent on this host still needs it until OPS-123 lands";

describe("policy.suppressions from an environment's YAML", () => {
  it("aws: silences exactly the suppressed rule on the suppressed resource", () => {
    const imds = 'AWS-EC2-IMDSV2 at staging/legacy: set metadata_options.http_tokens = "required" (IMDSv2 only)';
    const ebs = "AWS-EBS-ENCRYPTED at staging/legacy: unencrypted EBS: set root_block_device.encrypted = true";
    const imdsOther = 'AWS-EC2-IMDSV2 at staging/other: set metadata_options.http_tokens = "required" (IMDSv2 only)';
    expect(synthProblems("staging", [], legacyInstances).sort()).toEqual([`[staging] ${imds}`, `[staging] ${ebs}`, `[staging] ${imdsOther}`].sort());
    expect(synthProblems("staging", [{ rule: "AWS-EC2-IMDSV2", path: "staging/legacy", reason }], legacyInstances).sort()).toEqual(
      [`[staging] ${ebs}`, `[staging] ${imdsOther}`].sort(),
    );
    expect(
      synthProblems(
        "staging",
        [
          { rule: "AWS-EC2-IMDSV2", path: "staging/legacy", reason },
          { rule: "AWS-EC2-IMDSV2", path: "staging/other", reason },
          { rule: "AWS-EBS-ENCRYPTED", path: "staging/legacy", reason },
        ],
        legacyInstances,
      ),
    ).toEqual([]);
  });

  it("docker: silences exactly the suppressed rule on the suppressed resource", () => {
    const privileged = "[homelab] DOCKER-NO-PRIVILEGED at homelab/debug: remove privileged = true";
    const host =
      '[homelab] DOCKER-PUBLISHED-PORTS at homelab/debug: network_mode "host" publishes every port the container listens on: join the platform network and publish ports explicitly';
    expect(synthProblems("homelab", [], debugContainer).sort()).toEqual([privileged, host].sort());
    expect(synthProblems("homelab", [{ rule: "DOCKER-NO-PRIVILEGED", path: "homelab/debug", reason }], debugContainer)).toEqual([host]);
  });

  it("each stack of the environment applies the suppressions whose path names it: <env>-gitlab its own, the first stack every other", () => {
    const inContent = { rule: "DOCKER-NO-PRIVILEGED", path: "homelab-gitlab/debug", reason };
    const inFirst = { rule: "DOCKER-NO-PRIVILEGED", path: "homelab/debug", reason };
    // The container in the second stack: its suppression silences it there, and neither stack calls the other's unused.
    expect(synthProblems("homelab", [inContent], debugContainer, "homelab-gitlab")).toEqual([
      '[homelab-gitlab] DOCKER-PUBLISHED-PORTS at homelab-gitlab/debug: network_mode "host" publishes every port the container listens on: join the platform network and publish ports explicitly',
    ]);
    // The first stack's suppression does not reach into the second (cdktf stops at the first stack that fails validation).
    expect(synthProblems("homelab", [inFirst], debugContainer, "homelab-gitlab")).toEqual([
      "[homelab] policy.suppressions: { rule: DOCKER-NO-PRIVILEGED, path: homelab/debug } matches no violation (the resource is gone or renamed, or now passes): remove it",
    ]);
    // A suppression naming no stack of the environment is still reported, by the first stack.
    expect(synthProblems("homelab", [{ ...inFirst, path: "qa/debug" }])).toEqual([
      "[homelab] policy.suppressions: { rule: DOCKER-NO-PRIVILEGED, path: qa/debug } matches no violation (the resource is gone or renamed, or now passes): remove it",
    ]);
  });

  it("fails synth on a suppression that matches no violation: a resource that passes, or one that does not exist", () => {
    const passing = {
      rule: "AWS-SG-INGRESS",
      path: "staging/gitlab-server/ingress-git-ssh-ipv6",
      reason: "IPv6 git SSH for the Berlin office until their VPN lands",
    };
    const gone = { rule: "AWS-EC2-IMDSV2", path: "staging/removed-host", reason };
    expect(synthProblems("staging", [passing, gone])).toEqual([
      "[staging] policy.suppressions: { rule: AWS-SG-INGRESS, path: staging/gitlab-server/ingress-git-ssh-ipv6 } matches no violation (the resource is gone or renamed, or now passes): remove it",
      "[staging] policy.suppressions: { rule: AWS-EC2-IMDSV2, path: staging/removed-host } matches no violation (the resource is gone or renamed, or now passes): remove it",
    ]);
    // The docker test's suppression, once its container is gone.
    expect(synthProblems("homelab", [{ rule: "DOCKER-NO-PRIVILEGED", path: "homelab/debug", reason }])).toEqual([
      "[homelab] policy.suppressions: { rule: DOCKER-NO-PRIVILEGED, path: homelab/debug } matches no violation (the resource is gone or renamed, or now passes): remove it",
    ]);
  });
});
