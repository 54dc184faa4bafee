// Refuses, in CI, to apply a plan that deletes or replaces the deploy runner's own container:
// the apply job is a job of that runner (homelab: gitlab-runner-deploy), so stopping the
// runner stops the apply half-way (after the runner's grace period, which it spends waiting
// for this very job), leaving resources half-replaced, the state unwritten and its lock held. Such a change (a runner version
// bump, a rotated deploy token) is applied from a workstation instead. The container is the
// `<env>-gitlab` stack's (beside its gitlab_user_runner, whose new token replaces it); the
// first stack's plan that hands it over (the one-time migration) deletes it there: both are
// refused, whichever stack the job applies.
//   node --require tsx/cjs scripts/ci/apply-guard.ts <environment> <terraform show -json of the plan>
import { readFileSync } from "node:fs";
import { DEPLOY_RUNNER_CONTAINER_NAME } from "../../constructs/runner-fleet/docker-container-names";

/** The parts of `terraform show -json <plan>` this guard reads. */
export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address?: string;
    readonly mode?: string;
    readonly type?: string;
    readonly change?: {
      readonly actions?: readonly string[];
      readonly before?: { readonly name?: unknown } | null;
      readonly after?: { readonly name?: unknown } | null;
    };
  }[];
}

/** Why `plan` must not be applied from inside the deploy runner, or undefined when it may. */
export function selfReplacementProblem(env: string, plan: PlanJson, containerName: string = DEPLOY_RUNNER_CONTAINER_NAME): string | undefined {
  const hits = (plan.resource_changes ?? []).filter(
    (rc) =>
      rc.mode !== "data" &&
      rc.type === "docker_container" &&
      (rc.change?.actions ?? []).includes("delete") &&
      (rc.change?.before?.name === containerName || rc.change?.after?.name === containerName),
  );
  if (hits.length === 0) return undefined;
  const what = hits.map((rc) => `${rc.address ?? "docker_container"} (${(rc.change?.actions ?? []).includes("create") ? "replaced" : "deleted"})`).join(", ");
  return [
    `apply: refusing to apply '${env}': the plan deletes or replaces the container '${containerName}' (${what}),`,
    "the deploy runner this job runs in: the apply would be killed half-way, with resources half-replaced, the state unwritten and its lock held.",
    "Apply this change from a workstation instead, with the same TF_HTTP_* state variables and TF_VAR_* secrets as the pipeline:",
    `  npx cdktf deploy ${env}`,
    "(docs/operations.md, section 3.3). The pipeline's next apply then finds nothing of the runner left to change.",
  ].join("\n");
}

if (require.main === module) {
  const [env, planFile] = process.argv.slice(2);
  if (!env || !planFile) {
    process.stderr.write("usage: apply-guard.ts <environment> <plan.json from terraform show -json>\n");
    process.exit(2);
  }
  const problem = selfReplacementProblem(env, JSON.parse(readFileSync(planFile, "utf8")) as PlanJson);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}
