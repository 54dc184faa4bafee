// Turns `terraform show -json <plan>` into GitLab's Terraform report
// ({"create":n,"update":n,"delete":n}), which the merge request shows per environment.
// A replacement counts as a delete and a create, as GitLab's own gitlab-terraform does.
import { readFileSync, writeFileSync } from "node:fs";

export interface PlanCounts {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
}

export function planCounts(plan: { resource_changes?: { change?: { actions?: string[] } }[] }): PlanCounts {
  const counts = { create: 0, update: 0, delete: 0 };
  for (const change of plan.resource_changes ?? []) {
    const actions = change.change?.actions ?? [];
    if (actions.includes("create")) counts.create++;
    if (actions.includes("update")) counts.update++;
    if (actions.includes("delete")) counts.delete++;
  }
  return counts;
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write("usage: plan-summary <terraform show -json output> <report.json>\n");
    process.exit(2);
  }
  const counts = planCounts(JSON.parse(readFileSync(input, "utf8")));
  writeFileSync(output, JSON.stringify(counts));
  process.stdout.write(`plan: ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete\n`);
}
