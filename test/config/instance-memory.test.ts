// The runners' instance memory table: right for the sizes AWS publishes, and naming only
// families that exist (a typo there would silently refuse a real type).
import { describe, expect, it } from "vitest";
import { EC2_INSTANCE_TYPES } from "../../config/schema/ec2-instance-types";
import { instanceMemoryMiB, memoryMiB, RUNNER_FAMILIES } from "../../config/schema/instance-memory";

describe("instance memory", () => {
  it.each([
    ["t3a.large", 8],
    ["t3.large", 8],
    ["t3.micro", 1],
    ["t3a.2xlarge", 32],
    ["m5.xlarge", 16],
    ["m7a.medium", 4],
    ["c5.9xlarge", 72],
    ["c6a.large", 4],
    ["r7i.48xlarge", 1536],
  ])("%s has %i GiB", (type, gib) => {
    expect(instanceMemoryMiB(type)).toBe(gib * 1024);
  });

  it("knows nothing of other families or of metal sizes", () => {
    for (const t of ["g4dn.xlarge", "m7g.large", "c5n.large", "m5.metal"]) expect(instanceMemoryMiB(t), t).toBeUndefined();
  });

  it("names only families EC2 has", () => {
    for (const family of RUNNER_FAMILIES)
      expect(
        EC2_INSTANCE_TYPES.some((t) => t.startsWith(`${family}.`)),
        family,
      ).toBe(true);
  });

  it("reads Docker memory sizes", () => {
    expect([memoryMiB("6g"), memoryMiB("512m"), memoryMiB("1048576k")]).toEqual([6144, 512, 1024]);
  });
});
