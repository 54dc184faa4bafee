// Which Auto Scaling groups a runner manager's fleeting plugin scales (runners.scaling: jobs),
// and with what settings: read from the manager's config.toml in its launch template's user
// data, as Terraform would hand it to EC2. A group found here is priced from the job queue
// (cost/runner-capacity.ts), not as a fleet that keeps its minimum running.
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { decodeUserData } from "../scripts/verify/extract";
import type { AutoscaledGroup } from "./runner-capacity";
import type { Resource } from "./stack";

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

/** The config.toml files a cloud-config document writes. */
function runnerConfigs(userData: string): unknown[] {
  const decoded = decodeUserData(userData, true);
  if (!("text" in decoded)) return [];
  let doc: unknown;
  try {
    doc = parseYaml(decoded.text);
  } catch {
    return [];
  }
  const files = isTable(doc) && Array.isArray(doc.write_files) ? doc.write_files : [];
  return files
    .filter(
      (f): f is Table =>
        isTable(f) && typeof f.path === "string" && /\/gitlab-runner\/config\.toml(\.template)?$/.test(f.path) && typeof f.content === "string",
    )
    .flatMap((f) => {
      try {
        return [parseToml(f.content as string)];
      } catch {
        return [];
      }
    });
}

function autoscaledGroup(autoscaler: Table): [string, AutoscaledGroup] | undefined {
  const name = isTable(autoscaler.plugin_config) ? autoscaler.plugin_config.name : undefined;
  if (typeof autoscaler.plugin !== "string" || !/^aws(:|$)/.test(autoscaler.plugin) || typeof name !== "string") return undefined;
  const policies = (Array.isArray(autoscaler.policy) ? autoscaler.policy : []).filter(isTable).map((p) => ({
    periods: Array.isArray(p.periods) ? p.periods.map(String) : ["* * * * *"],
    idleCount: Number(p.idle_count ?? 0),
    idleTime: String(p.idle_time ?? "0s"),
  }));
  return [
    name,
    {
      capacityPerInstance: Number(autoscaler.capacity_per_instance ?? 1),
      maxInstances: Number(autoscaler.max_instances ?? 0),
      maxUseCount: Number(autoscaler.max_use_count ?? 0),
      policies,
    },
  ];
}

/** Worker groups by name, with the autoscaler settings that drive them. */
export function autoscaledGroups(resources: readonly Resource[]): Map<string, AutoscaledGroup> {
  const groups = new Map<string, AutoscaledGroup>();
  for (const template of resources.filter((r) => r.type === "aws_launch_template" && typeof r.config.user_data === "string")) {
    for (const config of runnerConfigs(template.config.user_data as string)) {
      const runners = isTable(config) && Array.isArray(config.runners) ? config.runners : [];
      for (const runner of runners.filter(isTable)) {
        const found = isTable(runner.autoscaler) ? autoscaledGroup(runner.autoscaler) : undefined;
        if (found) groups.set(...found);
      }
    }
  }
  return groups;
}
