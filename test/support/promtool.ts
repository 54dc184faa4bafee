// `promtool test rules` on rules and their unit tests, as the alert-rule tests run it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findTool, goToolEnv, run } from "../../scripts/verify/tools";

export const promtool = findTool("promtool");

/** Writes rules and tests side by side in a new directory under `scratch` and runs `promtool test rules` on them. */
export async function promtoolTest(scratch: string, name: string, rulesText: string, testsText: string) {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  writeFileSync(join(dir, "gitlab.rules.yml"), rulesText);
  writeFileSync(join(dir, "gitlab.rules.test.yml"), testsText);
  const r = await run(promtool as string, ["test", "rules", "gitlab.rules.test.yml"], { cwd: dir, env: goToolEnv() });
  return { code: r.code, output: r.stdout + r.stderr };
}
