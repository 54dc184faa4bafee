// Prints the environments a change needs a plan for, one per line, and checks what the
// pipeline's `rules: changes:` cannot:
//   node --require tsx/cjs scripts/ci/changed-environments-cli.ts <base-ref>   (default: origin/main)
// Exit 0: fine. Exit 1: a changed path is in neither list of changed-environments.ts, so
// the pipeline would plan nothing for it. Exit 3: an environment file was deleted (its
// infrastructure stays until destroyed by hand); the pipeline shows this as a warning.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { changedEnvironments, type ChangedEnvironments } from "./changed-environments";

export const EXIT_UNKNOWN_PATHS = 1;
export const EXIT_REMOVED_ENVIRONMENTS = 3;

/** The report and the exit code for a result. */
export function verdict(result: ChangedEnvironments): { stdout: string; stderr: string; code: number } {
  const stderr: string[] = [];
  for (const path of result.unknown) {
    stderr.push(
      `${path}: not classified; add it to SHARED_PATHS (and .gitlab-ci.yml's .shared-paths) or IRRELEVANT_PATHS in scripts/ci/changed-environments.ts`,
    );
  }
  for (const env of result.removed) {
    stderr.push(`config/${env}.yaml was deleted: nothing is destroyed; destroy environment ${env} deliberately (docs/operations.md, section 6)`);
  }
  const code = result.unknown.length ? EXIT_UNKNOWN_PATHS : result.removed.length ? EXIT_REMOVED_ENVIRONMENTS : 0;
  return { stdout: result.plan.map((e) => `${e}\n`).join(""), stderr: stderr.map((l) => `${l}\n`).join(""), code };
}

if (require.main === module) {
  const base = process.argv[2] ?? "origin/main";
  const repo = join(__dirname, "..", "..");
  const diff = execFileSync("git", ["diff", "--name-only", `${base}...HEAD`], { cwd: repo, encoding: "utf8" });
  const environments = readdirSync(join(repo, "config"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.replace(/\.yaml$/, ""));
  const out = verdict(changedEnvironments(diff.split("\n").filter(Boolean), environments));
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.code;
}
