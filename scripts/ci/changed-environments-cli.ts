// Prints the environments a change needs a plan for, one per line:
//   npx tsx scripts/ci/changed-environments-cli.ts <base-ref>   (default: origin/main)
// Removed environments are reported on stderr.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { changedEnvironments } from "./changed-environments";

const base = process.argv[2] ?? "origin/main";
const repo = join(__dirname, "..", "..");
const diff = execFileSync("git", ["diff", "--name-only", `${base}...HEAD`], { cwd: repo, encoding: "utf8" });
const environments = readdirSync(join(repo, "config"))
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => f.replace(/\.ya?ml$/, ""));
const result = changedEnvironments(diff.split("\n").filter(Boolean), environments);
for (const env of result.removed) process.stderr.write(`environment ${env} was removed: destroy it deliberately (see docs/operations.md)\n`);
process.stdout.write(result.plan.map((e) => `${e}\n`).join(""));
