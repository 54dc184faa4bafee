// `npm run deploy` between the two stacks: waits, for a bounded time, until GitLab answers on
// its API (and on docker until the bootstrap has written the automation token), saying what
// it waits for. Clocks come from the environment so tests run them short.
import type { Environment } from "../config/load";
import { probeGitLab, providerEnvironment, readinessUrl } from "./gitlab-access";
import { UsageError } from "./report";

/** The bounds of the wait: GITLAB_READY_TIMEOUT_SECONDS (1200) and GITLAB_READY_INTERVAL_SECONDS (10). */
export function waitClock(vars: NodeJS.ProcessEnv = process.env): { timeoutMs: number; intervalMs: number } {
  const seconds = (v: string | undefined, fallback: number) =>
    v !== undefined && v !== "" && Number.isFinite(Number(v)) && Number(v) >= 0 ? Number(v) : fallback;
  return { timeoutMs: seconds(vars.GITLAB_READY_TIMEOUT_SECONDS, 1200) * 1000, intervalMs: seconds(vars.GITLAB_READY_INTERVAL_SECONDS, 10) * 1000 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the second stack can run; returns the variables Terraform needs for it
 * (GITLAB_TOKEN on docker when unset). Throws with what to do when the time is up, or at
 * once when GitLab refuses the token (waiting would not help).
 */
export async function waitForGitLab(env: Environment, stack: string, out: NodeJS.WritableStream = process.stdout): Promise<NodeJS.ProcessEnv> {
  const { timeoutMs, intervalMs } = waitClock();
  const url = readinessUrl(env);
  const deadline = Date.now() + timeoutMs;
  out.write(`\n== ${stack}: waiting for GitLab at ${url} (up to ${Math.round(timeoutMs / 60_000)} min)\n`);
  let last = "";
  for (;;) {
    const access = await providerEnvironment(env);
    const token = access.vars.GITLAB_TOKEN ?? (env.platform === "docker" ? process.env.GITLAB_TOKEN : undefined);
    const probe = access.problem ? { up: false, detail: access.problem } : await probeGitLab(url, token);
    if (probe.up) {
      out.write(`GitLab answers (${probe.detail}).\n`);
      return access.vars;
    }
    if ("refused" in probe && probe.refused) throw new UsageError(`deploy: ${url}: ${probe.detail}. ${stack} was not applied: ${REFUSED_HINT[env.platform]}`);
    if (probe.detail !== last) out.write(`not yet: ${probe.detail}\n`);
    last = probe.detail;
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  throw new UsageError(
    `deploy: GitLab did not answer at ${url} within ${Math.round(timeoutMs / 1000)} s (last: ${last}). ${env.name} is applied; ${stack} was not. ` +
      `Check that GitLab started (docs/operations.md, "First deploy"), then run npm run deploy -- ${env.name} again (GITLAB_READY_TIMEOUT_SECONDS waits longer).`,
  );
}

const REFUSED_HINT: Record<Environment["platform"], string> = {
  docker:
    'GITLAB_TOKEN (or the token file in the GitLab container) is not a valid admin token: unset GITLAB_TOKEN to use the container\'s, or see docs/operations.md, "The automation token".',
  aws: 'see docs/operations.md, "The automation token".',
  kubernetes: 'see docs/operations.md, "The automation token".',
};
