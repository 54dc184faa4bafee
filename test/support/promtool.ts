// `promtool test rules` on rules and their unit tests, as the alert-rule tests run it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findTool, run } from "../../scripts/verify/tools";

export const promtool = findTool("promtool");

/**
 * promtool's Go runtime on one thread, collecting less often: the same results for a quarter
 * less CPU (its unit tests allocate much, and parallel collection costs more than it saves
 * on a busy 2-core machine). Peak memory stays under 100 MB.
 */
const GO_RUNTIME = { GOMAXPROCS: "1", GOGC: "200" };

/** Writes rules and tests side by side in a new directory under `scratch` and runs `promtool test rules` on them. */
export async function promtoolTest(scratch: string, name: string, rulesText: string, testsText: string) {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  writeFileSync(join(dir, "gitlab.rules.yml"), rulesText);
  writeFileSync(join(dir, "gitlab.rules.test.yml"), testsText);
  const r = await run(promtool as string, ["test", "rules", "gitlab.rules.test.yml"], { cwd: dir, env: { ...process.env, ...GO_RUNTIME } });
  return { code: r.code, output: r.stdout + r.stderr };
}
