// Monthly cost of an aws stack, resource by resource, from the rate table. Each priced
// resource type has one function; the types below it cost nothing by themselves.
import type { RateTable } from "./rates";
import { autoscaledGroups } from "./autoscaled-groups";
import { runnerCapacity, type AutoscaledGroup, type Capacity, type RunnerGroup } from "./runner-capacity";
import { list, num, one, referenced, resourcesOf, type Resource, type StackJson } from "./stack";

export interface CostLine {
  /** Construct path of the resource, without the stack's name. */
  readonly resource: string;
  /** What is priced, e.g. "t3a.xlarge, on-demand". */
  readonly item: string;
  readonly quantity: number;
  /** Unit of quantity and rate, e.g. "instance-hours", "GB-months". */
  readonly unit: string;
  /** Price per unit, or undefined when the table has none. */
  readonly rate?: number;
  /** USD (the table's currency) per month, or undefined when the table has no rate. */
  readonly monthly?: number;
}

interface Context {
  readonly rates: RateTable;
  readonly resources: readonly Resource[];
  /** Worker groups a runner manager's fleeting plugin scales, by name. */
  readonly autoscaled: ReadonlyMap<string, AutoscaledGroup>;
}

type Pricer = (r: Resource, ctx: Context) => CostLine[];

const line = (resource: string, item: string, quantity: number, unit: string, rate: number | undefined): CostLine => ({
  resource,
  item,
  quantity,
  unit,
  ...(rate === undefined ? {} : { rate, monthly: quantity * rate }),
});

const hours = (ctx: Context) => ctx.rates.hoursPerMonth;
const onDemand = (ctx: Context, type: string) => ctx.rates.ec2.onDemandHourly[type];
const spot = (ctx: Context, type: string) => {
  const price = onDemand(ctx, type);
  return price === undefined ? undefined : price * (1 - ctx.rates.ec2.spotDiscount);
};
const isBurstable = (type: string) => /^t[234][a-z]*\./.test(type);

function ebsLine(resource: string, what: string, volume: Record<string, any> | undefined, count: number, ctx: Context): CostLine[] {
  const size = num(volume?.volume_size ?? volume?.size);
  if (!volume || size === undefined) return [];
  const type = String(volume.volume_type ?? volume.type ?? "gp3");
  const perGb = ctx.rates.ebs.gbMonth[type];
  return [line(resource, `${what}: ${count === 1 ? "" : `${round(count)} × `}${size} GB ${type}`, size * count, "GB-months", perGb)];
}

const instance: Pricer = (r, ctx) => {
  const type = String(r.config.instance_type);
  const market = one(r.config.instance_market_options)?.market_type === "spot" ? "Spot" : "on-demand";
  const rate = market === "Spot" ? spot(ctx, type) : onDemand(ctx, type);
  return [
    line(r.path, `${type}, ${market}, always on`, hours(ctx), "instance-hours", rate),
    ...ebsLine(r.path, "root volume", one(r.config.root_block_device), 1, ctx),
  ];
};

const ebsVolume: Pricer = (r, ctx) => ebsLine(r.path, "volume", r.config, 1, ctx);

const publicAddress: Pricer = (r, ctx) => [line(r.path, "public IPv4 address", hours(ctx), "hours", ctx.rates.vpc.publicIpv4Hourly)];

const natGateway: Pricer = (r, ctx) => [
  line(r.path, "NAT gateway", hours(ctx), "hours", ctx.rates.vpc.natGatewayHourly),
  line(r.path, "NAT gateway, data processed (assumed)", ctx.rates.usage.natGbPerMonth, "GB", ctx.rates.vpc.natGatewayProcessedGb),
];

/** What an Auto Scaling group launches: its launch template, the type priced, its purchase options. */
function groupShape(r: Resource, ctx: Context) {
  const mixed = one(r.config.mixed_instances_policy);
  const distribution = one(mixed?.instances_distribution) ?? {};
  const spec = one(one(mixed?.launch_template)?.launch_template_specification) ?? one(r.config.launch_template);
  const template = referenced(ctx.resources, spec?.launch_template_id ?? spec?.id);
  const overrides = list(one(mixed?.launch_template)?.override).map((o) => o.instance_type as string | undefined);
  // The allocation strategy picks among the types; the first listed is the one priced.
  const type = overrides.find(Boolean) ?? (template?.config.instance_type as string | undefined);
  const onDemandBase = num(distribution.on_demand_base_capacity) ?? 0;
  const onDemandShare = (num(distribution.on_demand_percentage_above_base_capacity) ?? 100) / 100;
  // The group fills its on-demand base first: the always-on instances take it, the scale-up what is left.
  const purchase = (count: number) => {
    const od = Math.min(count, onDemandBase) + Math.max(0, count - onDemandBase) * onDemandShare;
    return { onDemand: od, spot: count - od };
  };
  const disk = list(template?.config.block_device_mappings).map((m) => one(m.ebs))[0];
  const credits = one(template?.config.credit_specification)?.cpu_credits;
  return { type, purchase, disk, unlimitedCredits: type !== undefined && isBurstable(type) && credits !== "standard" };
}

/** The group's kind: a worker group a runner manager's plugin scales, or a fleet. */
function runnerGroup(r: Resource, ctx: Context): RunnerGroup {
  const autoscaled = ctx.autoscaled.get(String(r.config.name));
  const maxSize = num(r.config.max_size) ?? 0;
  if (!autoscaled) return { kind: "fleet", minSize: num(r.config.min_size) ?? 0, maxSize };
  // max_instances 0 is "no limit": the group's own maximum is then the limit.
  return { kind: "jobs", ...autoscaled, maxInstances: autoscaled.maxInstances > 0 ? Math.min(autoscaled.maxInstances, maxSize) : maxSize };
}

const autoScalingGroup: Pricer = (r, ctx) => {
  const shape = groupShape(r, ctx);
  const type = shape.type;
  if (!type) return [];
  const group = runnerGroup(r, ctx);
  const capacity = runnerCapacity(group, ctx.rates.usage.runners);
  const always = shape.purchase(capacity.baseInstances);
  const all = shape.purchase(capacity.baseInstances + capacity.extraInstances);
  const lines: CostLine[] = [];
  const priced = (label: string, p: { onDemand: number; spot: number }) => {
    if (p.spot > 0)
      lines.push(
        line(
          r.path,
          `${label}: ${round(p.spot)} × ${type}, Spot (${Math.round(ctx.rates.ec2.spotDiscount * 100)} % under on-demand, assumed)`,
          p.spot * hours(ctx),
          "instance-hours",
          spot(ctx, type),
        ),
      );
    if (p.onDemand > 0)
      lines.push(line(r.path, `${label}: ${round(p.onDemand)} × ${type}, on-demand`, p.onDemand * hours(ctx), "instance-hours", onDemand(ctx, type)));
  };
  priced("always on", always);
  priced(`${group.kind === "jobs" ? "workers" : "scale-up"} (${capacity.explanation})`, {
    onDemand: all.onDemand - always.onDemand,
    spot: all.spot - always.spot,
  });
  const average = capacity.baseInstances + capacity.extraInstances;
  lines.push(...ebsLine(r.path, "instance volumes", shape.disk, average, ctx));
  if (shape.unlimitedCredits) lines.push(...burstLines(r, type, group, capacity, average, ctx));
  return lines;
};

/** CPU above a burstable type's baseline, billed in unlimited mode. */
function burstLines(r: Resource, type: string, group: RunnerGroup, capacity: Capacity, average: number, ctx: Context): CostLine[] {
  const usage = ctx.rates.usage.runners;
  if (group.kind === "fleet") {
    const surplus = usage.fleet.burstSurplusVcpuHoursPerInstance * average;
    return [
      line(
        r.path,
        `CPU above the ${type} baseline (unlimited mode), ${usage.fleet.burstSurplusVcpuHoursPerInstance} vCPU-hours per instance (assumed)`,
        surplus,
        "vCPU-hours",
        ctx.rates.ec2.burstSurplusPerVcpuHour,
      ),
    ];
  }
  const busyHours = (capacity.busyInstances ?? 0) * hours(ctx);
  return [
    line(
      r.path,
      `CPU above the ${type} baseline (unlimited mode), ${usage.jobs.burstSurplusVcpuPerBusyInstanceHour} vCPU-hours per busy instance-hour, ${round(busyHours, 1)} busy hours (assumed)`,
      busyHours * usage.jobs.burstSurplusVcpuPerBusyInstanceHour,
      "vCPU-hours",
      ctx.rates.ec2.burstSurplusPerVcpuHour,
    ),
  ];
}

const snapshotPolicy: Pricer = (r, ctx) => {
  const details = one(r.config.policy_details) ?? {};
  const targets = (details.target_tags ?? {}) as Record<string, string>;
  const volumes = ctx.resources.filter(
    (v) => v.type === "aws_ebs_volume" && Object.entries(targets).every(([k, val]) => (v.config.tags as Record<string, string> | undefined)?.[k] === val),
  );
  const size = volumes.reduce((n, v) => n + (num(v.config.size) ?? 0), 0);
  const retain = list(details.schedule).map((s) => one(s.retain_rule) ?? {})[0] ?? {};
  const kept = num(retain.count) ?? (num(retain.interval) ?? 1) * ({ DAYS: 1, WEEKS: 7, MONTHS: 30, YEARS: 365 }[String(retain.interval_unit)] ?? 1);
  const { volumeUsedShare, dailyChangeShare } = ctx.rates.usage.snapshots;
  const stored = size * volumeUsedShare * (1 + dailyChangeShare * Math.max(0, kept - 1));
  if (size === 0) return [];
  return [
    line(
      r.path,
      `snapshots of ${size} GB, ${kept} kept: ${Math.round(volumeUsedShare * 100)} % used, ${Math.round(dailyChangeShare * 100)} % changed a day (assumed)`,
      stored,
      "GB-months",
      ctx.rates.ebs.snapshotGbMonth,
    ),
  ];
};

const bucket: Pricer = (r, ctx) => [
  line(r.path, `S3 Standard, ${ctx.rates.usage.s3GbPerBucket} GB stored (assumed)`, ctx.rates.usage.s3GbPerBucket, "GB-months", ctx.rates.s3.standardGbMonth),
];

const alarm: Pricer = (r, ctx) => {
  const highResolution = (num(r.config.period) ?? 60) < 60;
  return [
    line(
      r.path,
      highResolution ? "alarm, high resolution" : "alarm",
      1,
      "alarm-months",
      highResolution ? ctx.rates.cloudwatch.highResolutionAlarmMonth : ctx.rates.cloudwatch.alarmMonth,
    ),
  ];
};

const secret: Pricer = (r, ctx) => [line(r.path, "Secrets Manager secret", 1, "secret-months", ctx.rates.secretsManager.secretMonth)];

const PRICERS: Record<string, Pricer> = {
  aws_instance: instance,
  aws_ebs_volume: ebsVolume,
  aws_eip: publicAddress,
  aws_nat_gateway: natGateway,
  aws_autoscaling_group: autoScalingGroup,
  aws_dlm_lifecycle_policy: snapshotPolicy,
  aws_s3_bucket: bucket,
  aws_cloudwatch_metric_alarm: alarm,
  aws_secretsmanager_secret: secret,
};

/** Types that cost nothing by themselves (or are priced through another resource). */
const FREE =
  /^(aws_iam_|aws_security_group|aws_vpc_security_group_|aws_s3_bucket_|aws_eip_association$|aws_volume_attachment$|aws_launch_template$|aws_autoscaling_policy$|aws_autoscaling_lifecycle_hook$|aws_sns_topic|aws_cloudwatch_log_group$|cloudflare_)/;

/** Log groups together: what is ingested a month, and what their retention keeps stored. */
function logs(resources: readonly Resource[], ctx: Context): CostLine[] {
  const groups = resources.filter((r) => r.type === "aws_cloudwatch_log_group");
  if (groups.length === 0) return [];
  const gb = ctx.rates.usage.logsGbPerMonth;
  // Months of logs each group holds once full (a group without retention: a year assumed).
  const months = groups.map((g) => Math.min(num(g.config.retention_in_days) ?? 365, 3650) / 30.4);
  const stored = (gb / groups.length) * months.reduce((a, b) => a + b, 0);
  return [
    line(`${groups.length} log groups`, `${gb} GB ingested a month (assumed)`, gb, "GB", ctx.rates.cloudwatch.logsIngestedGb),
    line(
      `${groups.length} log groups`,
      `stored for their retention (${groups.map((g) => num(g.config.retention_in_days) ?? "∞").join("/")} days)`,
      stored,
      "GB-months",
      ctx.rates.cloudwatch.logsStoredGbMonth,
    ),
  ];
}

/** Custom metrics the alarms watch (AWS's own namespaces are free). */
function customMetrics(resources: readonly Resource[], ctx: Context): CostLine[] {
  const metrics = new Set(
    resources
      .filter((r) => r.type === "aws_cloudwatch_metric_alarm" && typeof r.config.namespace === "string" && !r.config.namespace.startsWith("AWS/"))
      .map((r) => JSON.stringify([r.config.namespace, r.config.metric_name, r.config.dimensions ?? {}])),
  );
  if (metrics.size === 0) return [];
  return [
    line(
      "custom metrics",
      `${metrics.size} watched by alarms (agent and backup metrics)`,
      metrics.size,
      "metric-months",
      ctx.rates.cloudwatch.customMetricMonth,
    ),
  ];
}

export interface AwsEstimate {
  readonly lines: readonly CostLine[];
  /** Sum of the lines that have a rate. */
  readonly total: number;
  /** What could not be priced: a type or size the table lacks, a resource type it does not know. */
  readonly unpriced: readonly string[];
  /** The stack's region, when it names one. */
  readonly region?: string;
}

export function estimateAws(stack: StackJson, rates: RateTable): AwsEstimate {
  const resources = resourcesOf(stack);
  const ctx: Context = { rates, resources, autoscaled: autoscaledGroups(resources) };
  // Grouped by construct path (the stack's own structure), shared lines last.
  const perResource = resources
    .filter((r) => PRICERS[r.type])
    .sort((a, b) => a.path.localeCompare(b.path))
    .flatMap((r) => PRICERS[r.type]!(r, ctx));
  const lines = [...perResource, ...logs(resources, ctx), ...customMetrics(resources, ctx)].map(rounded);
  const unknownTypes = [...new Set(resources.filter((r) => !PRICERS[r.type] && !FREE.test(r.type)).map((r) => r.type))];
  const unpriced = [
    ...lines.filter((l) => l.monthly === undefined).map((l) => `${l.resource}: ${l.item} (no rate in the table)`),
    ...unknownTypes.map((t) => `${t} (not priced by this estimator)`),
  ];
  const region = one(stack.provider?.aws)?.region;
  return {
    lines,
    total: lines.reduce((sum, l) => sum + (l.monthly ?? 0), 0),
    unpriced,
    ...(typeof region === "string" ? { region } : {}),
  };
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Quantities and rates as a person would write them; the monthly amount to the cent. */
function rounded(l: CostLine): CostLine {
  return {
    ...l,
    quantity: round(l.quantity, 3),
    ...(l.rate !== undefined ? { rate: round(l.rate, 6) } : {}),
    ...(l.monthly !== undefined ? { monthly: round(l.monthly, 2) } : {}),
  };
}
