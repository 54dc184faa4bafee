// `npm run cost -- <env> [--json]`: a monthly estimate of the environment's synthesized stack.
//   --json            the report as JSON, for pipelines
//   --markdown        the README's table
//   --summary         one line (what the merge request's plan job prints)
//   --rates FILE      a YAML file merged over cost/rates.yaml (also GITLAB_PLATFORM_RATES)
//   --no-synth        read cdktf.out/stacks/<env>/cdk.tf.json as it is (default: synthesize first)
//   --stack FILE      estimate this cdk.tf.json instead
//   --compare FILE    another synth of the stack (the target branch's): adds the monthly delta
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { estimate } from "../cost/estimate";
import { formatMarkdown, formatSummaryLine, formatText } from "../cost/format";
import { loadRates } from "../cost/rates";
import type { StackJson } from "../cost/stack";
import { loadEnvironments } from "../config/load";
import { environmentStackNames } from "../stacks/app";
import { configDir, stackDir } from "./paths";
import { UsageError } from "./report";
import { synthesize } from "./synth";

interface CostOptions {
  readonly environment: string;
  readonly output: "text" | "json" | "markdown" | "summary";
  readonly rates?: string;
  readonly synth: boolean;
  readonly stack?: string;
  readonly compare?: string;
}

export function parseCostArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CostOptions {
  const positional: string[] = [];
  let output: CostOptions["output"] = "text";
  let rates = env.GITLAB_PLATFORM_RATES || undefined;
  let synth = true;
  let stack: string | undefined;
  let compare: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`cost: ${a} needs a file`);
      return v;
    };
    if (a === "--json") output = "json";
    else if (a === "--markdown") output = "markdown";
    else if (a === "--summary") output = "summary";
    else if (a === "--rates") rates = value();
    else if (a === "--no-synth") synth = false;
    else if (a === "--stack") stack = value();
    else if (a === "--compare") compare = value();
    else if (a.startsWith("--")) throw new UsageError(`cost: unknown option ${a}; see the top of cli/cost.ts`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError(`usage: npm run cost -- <environment> [--json]   (one environment; ${positional.length} given)`);
  return { environment: positional[0]!, output, ...(rates ? { rates } : {}), synth: synth && !stack, ...(stack ? { stack } : {}), ...(compare ? { compare } : {}) };
}

function readStack(file: string): StackJson {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StackJson;
  } catch (error) {
    throw new UsageError(`cost: cannot read ${file}: ${(error as Error).message.split("\n")[0]}`);
  }
}

export function costCommand(args: readonly string[], out: NodeJS.WritableStream = process.stdout): number {
  const options = parseCostArgs(args);
  const rates = loadRates(options.rates);
  let file = options.stack;
  if (!file) {
    // The environment's platform stack: the first it is deployed as.
    if (options.synth) synthesize([options.environment]);
    const [environment] = loadEnvironments(configDir(), [options.environment]);
    file = join(stackDir(environmentStackNames(environment!)[0]!), "cdk.tf.json");
  }
  const report = estimate(options.environment, readStack(file), rates, options.compare ? readStack(options.compare) : undefined);
  const text =
    options.output === "json" ? JSON.stringify(report, null, 2) : options.output === "markdown" ? formatMarkdown(report) : options.output === "summary" ? formatSummaryLine(report) : formatText(report);
  out.write(`${text}\n`);
  return 0;
}
