import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_DIR, exampleEnvironment, exampleEnvironments } from "../helpers";

describe("example environments", () => {
  it("are homelab (docker), staging and production (aws), k3s-homelab and cluster (kubernetes), all valid", () => {
    const envs = exampleEnvironments();
    expect(envs.map((e) => [e.name, e.platform])).toEqual([
      ["cluster", "kubernetes"],
      ["homelab", "docker"],
      ["k3s-homelab", "kubernetes"],
      ["production", "aws"],
      ["staging", "aws"],
    ]);
  });

  it("each start with the yaml-language-server schema comment", () => {
    for (const file of readdirSync(CONFIG_DIR).filter((f) => f.endsWith(".yaml"))) {
      const firstLine = readFileSync(join(CONFIG_DIR, file), "utf8").split("\n")[0];
      expect(firstLine, file).toBe("# yaml-language-server: $schema=./environment.schema.json");
    }
  });

  it("homelab is sized after the reference homelab: git SSH on 2222, registry subdomain, build and deploy runners", () => {
    const env = exampleEnvironment("homelab");
    if (env.platform !== "docker") throw new Error("homelab must be docker");
    expect(env.gitlab.sshPort).toBe(2222);
    expect(env.registry).toEqual({ enabled: true, hostname: "registry" });
    // Registered by homelab-gitlab: the seed's tags, the deploy runner protected, no untagged jobs.
    expect(env.runners.build).toMatchObject({ dockerAccess: "none", tags: ["docker"], protected: false, runUntagged: false });
    expect(env.runners.deploy).toMatchObject({ tags: ["deploy"], protected: true, runUntagged: false });
    expect(env.runners.build.token).toBeUndefined();
    expect(env.backups.schedule).toBe("0 2 * * *");
    expect(env.runners.cleanupSchedule).toBe("0 */6 * * *");
    expect(env.runners.cleanupOlderThan).toBe("4h");
  });

  it.each(["staging", "production"])("%s is sized after the reference AWS installation", (name) => {
    const env = exampleEnvironment(name);
    if (env.platform !== "aws") throw new Error(`${name} must be aws`);
    expect(env.domain).toBe("example.com");
    expect(env.aws.instanceType).toBe("t3a.xlarge");
    expect(env.aws.dataVolumeGb).toBe(200);
    expect(env.runners).toMatchObject({
      instanceTypes: ["t3a.large", "t3.large"],
      cacheExpirationDays: 14,
      rootVolumeGb: 100,
      jobImage: "node:20-alpine",
      // The reference AWS installation's 6g × 2 jobs does not fit a t3a.large's 8 GiB: derived, (8 GiB − 1 GiB) / 2.
      jobMemory: "3584m",
      jobCpus: "1.5",
    });
    // Staging keeps the reference AWS installation's CPU-scaled group; production follows the job queue at the same peak.
    if (name === "staging") {
      expect(env.runners).toMatchObject({ scaling: "cpu", minSize: 1, maxSize: 3, desiredCapacity: 1, concurrent: 2, cpuTargetPercent: 60 });
    } else {
      expect(env.runners).toMatchObject({
        scaling: "jobs",
        capacityPerInstance: 2,
        maxInstances: 3,
        maxUseCount: 20,
        manager: { instanceType: "t3a.small", purchaseOption: "on-demand" },
      });
    }
    expect(env.backups.schedule).toBe("0 2 * * *");
    expect(env.backups.snapshotRetentionDays).toBe(14);
    expect(env.observability.appLogRetentionDays).toBe(30);
    expect(env.observability.systemLogRetentionDays).toBe(14);
  });

  it("staging and production do not collide on host names in the shared zone", () => {
    const names = ["staging", "production"].map((n) => exampleEnvironment(n)).map((e) => [e.gitlab.hostname, e.gitlab.sshHostname, e.registry.hostname]);
    const all = names.flat();
    expect(new Set(all).size).toBe(all.length);
  });
});
