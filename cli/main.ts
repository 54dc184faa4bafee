// The commands behind `npm run synth|plan|deploy|cost|check` and cdktf.json's app, in one
// bundle (cli/run.cjs builds and starts it). Each names an environment once.
import { RatesError } from "../cost/rates";
import { UnsupportedStackError } from "../cost/estimate";
import { runApp } from "./app";
import { checkCommand } from "./check";
import { costCommand } from "./cost";
import { reportFailure } from "./report";
import { synthCommand } from "./synth";
import { gitlabReady } from "./gitlab-ready";
import { deployCommand, planCommand } from "./terraform";

const USAGE = `usage (from the repository root):
  npm run synth [-- <env>…]         synthesize every environment, or the named ones, into cdktf.out/stacks/<env>/
  npm run plan -- <env>             synthesize <env>, then terraform init and plan -out=plan.tfplan in each of its stack directories
  npm run deploy -- <env>           apply <env>'s saved plans (<env>, then <env>-gitlab once GitLab answers), or plan and ask before applying
  npm run cost -- <env> [--json]    monthly estimate of <env>'s synthesized stack
  npm run check [-- <env>…]         validate the config and run the policies; writes nothing
An unknown <env> lists the known ones (the names of config/*.yaml).
The pipeline's jobs (scripts/ci/plan.sh, apply.sh) also run:
  node cli/run.cjs gitlab-ready <env>-gitlab --probe|--wait   GitLab answers? (once, or the bounded wait); prints the docker token`;

const COMMANDS: Record<string, (args: string[]) => number | Promise<number>> = {
  app: () => runApp(),
  synth: synthCommand,
  plan: planCommand,
  deploy: (args) => deployCommand(args),
  cost: (args) => costCommand(args),
  check: checkCommand,
  "gitlab-ready": (args) => gitlabReady(args[0] ?? "", args[1] ?? ""),
};

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`${command ? `unknown command '${command}'\n` : ""}${USAGE}\n`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    return await run(args);
  } catch (error) {
    if (error instanceof RatesError || error instanceof UnsupportedStackError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    return reportFailure(error);
  }
}
