// The checked-in list of EC2 instance types config is checked against, generated from the AWS
// SDK for JavaScript (a dev dependency only): stale when the installed SDK knows other types.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EC2_INSTANCE_TYPES } from "../../config/schema/ec2-instance-types";
import { renderInstanceTypesModule, sdkInstanceTypes } from "../../scripts/generate-ec2-instance-types";
import { REPO_ROOT } from "../helpers";

describe("config/schema/ec2-instance-types.ts", () => {
  it("is what scripts/generate-ec2-instance-types.ts makes from the installed @aws-sdk/client-ec2 (npm run instance-types)", () => {
    const file = readFileSync(join(REPO_ROOT, "config/schema/ec2-instance-types.ts"), "utf8");
    expect(file, "stale: run npm run instance-types").toBe(renderInstanceTypesModule());
  });

  it("holds every type the SDK knows, sorted, and the ones the examples use", () => {
    expect(EC2_INSTANCE_TYPES).toEqual([...sdkInstanceTypes()].sort());
    expect(EC2_INSTANCE_TYPES.length).toBeGreaterThan(500);
    for (const t of ["t3a.xlarge", "t3a.large", "t3.large", "m7i.2xlarge"]) expect(EC2_INSTANCE_TYPES).toContain(t);
    expect(EC2_INSTANCE_TYPES).not.toContain("t3a.xlrage");
  });
});
