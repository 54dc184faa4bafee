// The pipeline's gate before an environment's second stack (<env>-gitlab): GitLab must answer
// on its API, and on docker the automation token is read from the GitLab container. Prints
// the token GITLAB_TOKEN should hold (docker only; nothing otherwise) on stdout, for
// `token="$(…)"`, and everything else on stderr. A command of the CLI's bundle, so that the
// pipeline's jobs start it as fast as the other commands.
//   node cli/run.cjs gitlab-ready <env>-gitlab --probe   one look; exit 3 when GitLab cannot be reached
//   node cli/run.cjs gitlab-ready <env>-gitlab --wait    the bounded wait of `npm run deploy`; exit 2 at its end
import { loadEnvironments } from "../config/load";
import { gitlabReachable } from "./gitlab-access";
import { waitForGitLab } from "./gitlab-wait";
import { configDir } from "./paths";
import { UsageError } from "./report";

/** Exit code of --probe when GitLab cannot be reached: the plan job skips the stack, saying why. */
export const EXIT_UNREACHABLE = 3;

/** Probes (--probe) or waits for (--wait) the GitLab of `<env>-gitlab`; writes the token Terraform needs, if any, to `out`. */
export async function gitlabReady(stack: string, mode: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (!stack.endsWith("-gitlab") || (mode !== "--probe" && mode !== "--wait"))
    throw new UsageError("usage: node cli/run.cjs gitlab-ready <env>-gitlab --probe|--wait");
  const [env] = loadEnvironments(configDir(), [stack.slice(0, -"-gitlab".length)]);
  if (mode === "--probe") {
    const access = await gitlabReachable(env!);
    if (access.problem) {
      process.stderr.write(`${stack}: GitLab cannot be reached: ${access.problem}\n`);
      return EXIT_UNREACHABLE;
    }
    if (access.vars.GITLAB_TOKEN) out.write(access.vars.GITLAB_TOKEN);
    return 0;
  }
  const vars = await waitForGitLab(env!, stack, process.stderr);
  if (vars.GITLAB_TOKEN) out.write(vars.GITLAB_TOKEN);
  return 0;
}
