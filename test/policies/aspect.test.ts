// The PolicyAspect inside a real synth: violations stop synth, naming path, rule and fix.
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, Aspects, TerraformStack } from "cdktf";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PolicyAspect } from "../../policies/aspect";
import { synthEnvironments } from "../../stacks/app";
import { asValidationError, SynthValidationError } from "../../stacks/validation-error";
import { exampleEnvironments } from "../helpers";

function synthWith(suppressions: ConstructorParameters<typeof PolicyAspect>[1]) {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), "policy-")) });
  const stack = new TerraformStack(app, "qa");
  new AwsProvider(stack, "aws", { region: "eu-west-3" });
  new Instance(stack, "legacy", { ami: "ami-0123", instanceType: "t3.micro", rootBlockDevice: { encrypted: true } });
  new Instance(stack, "open", { ami: "ami-0123", instanceType: "t3.micro" });
  Aspects.of(stack).add(new PolicyAspect({ gitSshPort: 22 }, suppressions));
  try {
    app.synth();
    return undefined;
  } catch (error) {
    return asValidationError(error);
  }
}

describe("PolicyAspect", () => {
  it("fails synth listing every violation with its construct path and how to fix it", () => {
    const error = synthWith([]);
    expect(error).toBeInstanceOf(SynthValidationError);
    const problems = (error as SynthValidationError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\[qa\] AWS-EC2-IMDSV2 at qa\/legacy: set metadata_options\.http_tokens = "required"/),
        expect.stringMatching(/^\[qa\] AWS-EC2-IMDSV2 at qa\/open: /),
        expect.stringMatching(/^\[qa\] AWS-EBS-ENCRYPTED at qa\/open: unencrypted EBS: set root_block_device\.encrypted = true/),
      ]),
    );
    expect(problems.join("\n")).toContain("policy.suppressions");
    expect(problems.join("\n")).not.toContain("skipValidation");
  });

  it("lets a suppression with a reason through, and only for its resource", () => {
    const error = synthWith([{ rule: "AWS-EC2-IMDSV2", path: "qa/legacy", reason: "vendor agent on this host still needs IMDSv1" }]) as SynthValidationError;
    expect(error.problems.filter((p) => p.includes("AWS-EC2-IMDSV2")).map((p) => /at (\S+):/.exec(p)?.[1])).toEqual(["qa/open"]);
  });

  it("fails synth on a suppression that matches no violation, naming it", () => {
    const stale = { rule: "AWS-EC2-IMDSV2", path: "qa/removed", reason: "the vendor agent host was decommissioned" };
    const error = synthWith([stale]) as SynthValidationError;
    expect(error.problems).toContainEqual(
      expect.stringMatching(/policy\.suppressions: \{ rule: AWS-EC2-IMDSV2, path: qa\/removed \} matches no violation .*: remove it$/),
    );
  });

  it("passes every example environment", () => {
    // A full app synth: aspects and validations run (Testing.synth skips them).
    expect(() => synthEnvironments(exampleEnvironments(), join(mkdtempSync(join(tmpdir(), "policy-")), "cdktf.out"))).not.toThrow();
  });
});
