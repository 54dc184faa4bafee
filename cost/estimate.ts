// `npm run cost -- <env>`: a monthly estimate from a synthesized stack (never from the YAML:
// what is priced is what Terraform would create). aws stacks get dollars per resource;
// docker stacks get the host's resources, since the host is yours and already paid for.
import { estimateAws, round, type AwsEstimate } from "./aws";
import { dockerHostReport, type DockerHostReport } from "./docker";
import type { RateTable } from "./rates";
import { platformOf, type StackJson } from "./stack";

export type CostReport =
  | ({ readonly environment: string; readonly platform: "aws"; readonly rates: RateSource; readonly notes: readonly string[] } & AwsEstimate & {
        readonly base?: { readonly total: number; readonly delta: number };
      })
  | ({ readonly environment: string; readonly platform: "docker" } & DockerHostReport);

export interface RateSource {
  readonly date: string;
  readonly region: string;
  readonly currency: string;
  readonly source: string;
  readonly hoursPerMonth: number;
  readonly spotDiscount: number;
}

export class UnsupportedStackError extends Error {}

/** `companions`: the environment's other stacks (`<env>-gitlab`), whose containers share a docker host. */
export function estimate(environment: string, stack: StackJson, rates: RateTable, base?: StackJson, companions: readonly StackJson[] = []): CostReport {
  const platform = platformOf(stack);
  if (platform === "docker") return { environment, platform, ...dockerHostReport(stack, companions) };
  if (platform !== "aws")
    throw new UnsupportedStackError(
      `${environment}: no cost estimate for this stack's platform (providers: ${Object.keys(stack.provider ?? {}).join(", ") || "none"})`,
    );
  const aws = estimateAws(stack, rates);
  const notes = [
    "Data transfer out of AWS (clones, pulls, registry downloads) comes on top.",
    "Secrets Manager secrets the environment references (created by you) cost 0.40 each a month; the second stack (`<env>-gitlab`) adds none.",
    ...(aws.region && aws.region !== rates.region ? [`The stack is in ${aws.region}; the rates are ${rates.region}'s: override them with --rates.`] : []),
  ];
  const baseTotal = base && platformOf(base) === "aws" ? estimateAws(base, rates).total : undefined;
  return {
    environment,
    platform,
    rates: {
      date: rates.date,
      region: rates.region,
      currency: rates.currency,
      source: rates.source,
      hoursPerMonth: rates.hoursPerMonth,
      spotDiscount: rates.ec2.spotDiscount,
    },
    notes,
    ...aws,
    total: round(aws.total),
    ...(baseTotal !== undefined ? { base: { total: round(baseTotal), delta: round(aws.total - baseTotal) } } : {}),
  };
}
