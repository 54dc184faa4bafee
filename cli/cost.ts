// `npm run cost -- <env> [--json]`: a monthly estimate of the environment's synthesized stack.
//   --json            the report as JSON, for pipelines
//   --markdown        the README's table
//   --summary         one line (what the merge request's plan job prints)
//   --rates FILE      a YAML file merged over cost/rates.yaml (also GITLAB_PLATFORM_RATES)
//   --no-synth        read cdktf.out/stacks/<env>/cdk.tf.json as it is (default: synthesize first)
//   --stack FILE      estimate this cdk.tf.json instead
//   --compare FILE    another synth of the stack (the target branch's): adds the monthly delta
//   --modes           aws: only the runners in both scaling modes (runners.scaling cpu and jobs)
//                     at equal peak capacity, each synthesized; with --markdown, the README's
//                     table. The text report of an aws environment ends with this comparison.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { estimate, type CostReport } from "../cost/estimate";
import { formatMarkdown, formatModesMarkdown, formatModesText, formatSummaryLine, formatText } from "../cost/format";
import { compareModes, modeCost, type ModesComparison } from "../cost/modes";
import { loadRates, type RateTable } from "../cost/rates";
import type { StackJson } from "../cost/stack";
import { loadEnvironments } from "../config/load";
import { peakJobs, runnersInMode } from "../config/runner-scaling";
import { environmentStackNames, synthEnvironments } from "../stacks/app";
import type { AwsEnvironment } from "../stacks/aws-stack";
import { configDir, stackDir } from "./paths";
import { printWarning, UsageError } from "./report";
import { synthesize } from "./synth";

interface CostOptions {
  readonly environment: string;
  readonly output: "text" | "json" | "markdown" | "summary";
  readonly modes: boolean;
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
  let modes = false;
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
    else if (a === "--modes") modes = true;
    else if (a.startsWith("--")) throw new UsageError(`cost: unknown option ${a}; see the top of cli/cost.ts`);
    else positional.push(a);
  }
  if (positional.length !== 1) throw new UsageError(`usage: npm run cost -- <environment> [--json]   (one environment; ${positional.length} given)`);
  if (modes && (stack || compare || output === "summary"))
    throw new UsageError("cost: --modes synthesizes the environment in both modes; it does not take --stack, --compare or --summary");
  return {
    environment: positional[0]!,
    output,
    modes,
    ...(rates ? { rates } : {}),
    synth: synth && !stack,
    ...(stack ? { stack } : {}),
    ...(compare ? { compare } : {}),
  };
}

function readStack(file: string): StackJson {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StackJson;
  } catch (error) {
    throw new UsageError(`cost: cannot read ${file}: ${(error as Error).message.split("\n")[0]}`);
  }
}

/** The report of `env` as synthesized on its own, in a scratch directory. */
function estimateSynthesized(env: AwsEnvironment, rates: RateTable): Extract<CostReport, { platform: "aws" }> {
  const dir = mkdtempSync(join(tmpdir(), "cost-modes-"));
  try {
    synthEnvironments([env], join(dir, "cdktf.out"));
    const stack = readStack(join(dir, "cdktf.out", "stacks", env.name, "cdk.tf.json"));
    return estimate(env.name, stack, rates) as Extract<CostReport, { platform: "aws" }>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runnerShape(r: AwsEnvironment["runners"]): string {
  const type = r.instanceTypes[0];
  return r.scaling === "cpu"
    ? `${r.maxSize} × ${r.concurrent} jobs on ${type}, ${r.minSize} always on, scaled on CPU`
    : `${r.maxInstances} × ${r.capacityPerInstance} jobs on ${type}, from the job queue to zero; manager ${r.manager.instanceType} ${r.manager.purchaseOption}`;
}

/** The environment's runners in both scaling modes at equal peak capacity, each synthesized and priced. */
export function estimateBothModes(env: AwsEnvironment, rates: RateTable): ModesComparison {
  const other = env.runners.scaling === "cpu" ? "jobs" : "cpu";
  let otherRunners: AwsEnvironment["runners"];
  try {
    otherRunners = runnersInMode(env.runners, other);
  } catch (error) {
    throw new UsageError(`cost: ${env.name}: ${(error as Error).message}`);
  }
  const variants = [env, { ...env, runners: otherRunners }];
  const [configured, derived] = variants.map((v) => modeCost(v.runners.scaling, v === env, runnerShape(v.runners), estimateSynthesized(v, rates)));
  return compareModes(env.name, peakJobs(env.runners), configured!, derived!, rates);
}

function modesCommand(options: CostOptions, rates: RateTable, out: NodeJS.WritableStream): number {
  const [environment] = loadEnvironments(configDir(), [options.environment], printWarning);
  if (environment!.platform !== "aws")
    throw new UsageError(`cost: --modes compares runners.scaling, which aws environments have; ${environment!.name} is ${environment!.platform}`);
  const comparison = estimateBothModes(environment as AwsEnvironment, rates);
  const text =
    options.output === "json"
      ? JSON.stringify(comparison, null, 2)
      : options.output === "markdown"
        ? formatModesMarkdown(comparison)
        : formatModesText(comparison);
  out.write(`${text}\n`);
  return 0;
}

export function costCommand(args: readonly string[], out: NodeJS.WritableStream = process.stdout): number {
  const options = parseCostArgs(args);
  const rates = loadRates(options.rates);
  if (options.modes) return modesCommand(options, rates, out);
  let file = options.stack;
  let environment: ReturnType<typeof loadEnvironments>[number] | undefined;
  let companions: StackJson[] = [];
  if (!file) {
    // The environment's platform stack: the first it is deployed as; the others beside it.
    if (options.synth) synthesize([options.environment]);
    // synth has printed the config's warnings already.
    [environment] = loadEnvironments(configDir(), [options.environment], options.synth ? undefined : printWarning);
    const [first, ...others] = environmentStackNames(environment!).map((name) => join(stackDir(name), "cdk.tf.json"));
    file = first!;
    companions = others.filter((f) => existsSync(f)).map(readStack);
  }
  const report = estimate(options.environment, readStack(file), rates, options.compare ? readStack(options.compare) : undefined, companions);
  const text =
    options.output === "json"
      ? JSON.stringify(report, null, 2)
      : options.output === "markdown"
        ? formatMarkdown(report)
        : options.output === "summary"
          ? formatSummaryLine(report)
          : formatText(report);
  out.write(`${text}\n`);
  // The text report of an aws environment also prices its runners in the other scaling mode.
  if (options.output === "text" && environment?.platform === "aws")
    out.write(`\n${formatModesText(estimateBothModes(environment as AwsEnvironment, rates))}\n`);
  return 0;
}
