// Refuses to plan or apply, in CI, an environment whose Terraform state is a local file: a
// job's workspace is thrown away, so the state of what it created would be lost and the
// next apply would create everything again beside it.
//   node --require tsx/cjs scripts/ci/require-remote-state.ts <env>|<env>-gitlab   (after `cdktf synth`)
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** What is wrong with running `env`'s synthesized stack from CI, or undefined when nothing is. */
export function remoteStateProblem(env: string, stack: { terraform?: { backend?: Record<string, unknown> } }): string | undefined {
  const backends = Object.keys(stack.terraform?.backend ?? {});
  if (backends.length > 1)
    return `cdktf.out/stacks/${env}: ${backends.length} Terraform backends (${backends.join(", ")}); Terraform accepts one (a bug in stacks/backend.ts)`;
  if (backends.length === 1 && backends[0] !== "local") return undefined;
  return (
    `config/${env.replace(/-gitlab$/, "")}.yaml: state.backend: '${backends[0] ?? "local"}' keeps Terraform state in a file inside the CI job, ` +
    "which is discarded when the job ends; set state.backend to 's3' or 'gitlab' " +
    "(docs/operations.md, section 1.1) and move the existing state there first"
  );
}

if (require.main === module) {
  const env = process.argv[2];
  if (!env) {
    process.stderr.write("usage: require-remote-state.ts <environment>\n");
    process.exit(2);
  }
  const file = join("cdktf.out", "stacks", env, "cdk.tf.json");
  const problem = remoteStateProblem(env, JSON.parse(readFileSync(file, "utf8")));
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}
