// The docker runner containers' names, apart from the constructs: scripts/ci/apply-guard.ts
// runs in every apply job and needs the deploy runner's name, not cdktf and the providers.

/**
 * The deploy runner's container name. The pipeline's apply jobs are its jobs, so an apply that
 * replaces it stops the runner that runs it: scripts/ci/apply-guard.ts refuses such plans in CI.
 */
export const DEPLOY_RUNNER_CONTAINER_NAME = "gitlab-runner-deploy";
/** The build runner's container name. */
export const BUILD_RUNNER_CONTAINER_NAME = "gitlab-runner-build";
