// The pipeline's gate before an environment's second stack (<env>-gitlab): GitLab must answer
// on its API, and on docker the automation token is read from the GitLab container. Prints
// the token GITLAB_TOKEN should hold (docker only; nothing otherwise) on stdout, for
// `token="$(…)"`, and everything else on stderr.
//   node --require tsx/cjs scripts/ci/gitlab-ready.ts <env>-gitlab --probe   one look; exit 3 when GitLab cannot be reached
//   node --require tsx/cjs scripts/ci/gitlab-ready.ts <env>-gitlab --wait    the bounded wait of `npm run deploy`; exit 2 at its end
import { gitlabReachable } from "../../cli/gitlab-access";
import { configDir } from "../../cli/paths";
import { reportFailure, UsageError } from "../../cli/report";
import { waitForGitLab } from "../../cli/gitlab-wait";
import { loadEnvironments } from "../../config/load";

/** Exit code of --probe when GitLab cannot be reached: the plan job skips the stack, saying why. */
export const EXIT_UNREACHABLE = 3;

export async function gitlabReady(stack: string, mode: string, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  if (!stack.endsWith("-gitlab") || (mode !== "--probe" && mode !== "--wait")) throw new UsageError("usage: gitlab-ready.ts <env>-gitlab --probe|--wait");
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

if (require.main === module) {
  gitlabReady(process.argv[2] ?? "", process.argv[3] ?? "")
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error) => {
      process.exitCode = reportFailure(error);
    });
}
