// `npm run check`: every environment file validated, collisions between them checked, and the
// stacks built and run through the policies, in a scratch directory that is removed: nothing
// in the project changes. Quick enough for an editor hook or a pre-commit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnvironments } from "../config/load";
import { synthEnvironments } from "../stacks/app";
import { tuneForSynth } from "../stacks/synth-tuning";
import { configDir, shown } from "./paths";
import { printWarning } from "./report";

export function checkCommand(names: readonly string[], out: NodeJS.WritableStream = process.stdout): number {
  tuneForSynth();
  const environments = loadEnvironments(configDir(), names.length > 0 ? names : undefined, printWarning);
  const scratch = mkdtempSync(join(tmpdir(), "gitlab-platform-check-"));
  try {
    const result = synthEnvironments(environments, join(scratch, "cdktf.out"));
    const resources = result.synthesized.reduce((n, s) => n + s.resources, 0);
    out.write(
      `check: ${environments.length} environment(s) in ${shown(configDir())} valid, ${result.synthesized.length} stack(s) and ${resources} resources pass the policies\n`,
    );
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
