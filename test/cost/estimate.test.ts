// The cost estimate prices what the synthesized stack declares, from the rate table.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { estimate, type CostReport } from "../../cost/estimate";
import { formatSummaryLine, formatText } from "../../cost/format";
import { loadRates, RatesError } from "../../cost/rates";
import { deepClone, exampleEnvironment, exampleYaml, resources, synthStacksToDisk, synthToDisk, validEnvironment, type SynthesizedStack } from "../helpers";
import { cliInProcess } from "../support/cli";
import { scratchWithExamples } from "../support/run-app";

const stacks = synthStacksToDisk([exampleEnvironment("staging"), exampleEnvironment("homelab")]);
const staging = stacks.staging!;
const rates = loadRates();

type Aws = Extract<CostReport, { platform: "aws" }>;
const aws = (stack: SynthesizedStack, r = rates, base?: SynthesizedStack) => estimate("staging", stack, r, base) as Aws;
const lineOf = (report: Aws, resource: string, item: RegExp) => {
  const found = report.lines.filter((l) => l.resource === resource && item.test(l.item));
  expect(found, `${resource} ${item}`).toHaveLength(1);
  return found[0]!;
};
const ratesFile = (yaml: string) => {
  const file = join(mkdtempSync(join(tmpdir(), "rates-")), "my-rates.yaml");
  writeFileSync(file, yaml);
  return file;
};

describe("aws estimate of the staging example", () => {
  const report = aws(staging);

  it("names the rate table's date, region and source", () => {
    expect(report.rates).toMatchObject({ date: "2026-11-23", region: "eu-west-3", currency: "USD", hoursPerMonth: 730, spotDiscount: 0.65 });
    expect(report.rates.source).toMatch(/AWS public price pages/);
    expect(formatText(report).split("\n")[0]).toContain("rates of 2026-11-23 for eu-west-3");
  });

  it("prices the GitLab instance by type and purchase option, always on", () => {
    const l = lineOf(report, "gitlab-server/instance", /^t3a\.xlarge, on-demand/);
    expect(l).toMatchObject({ quantity: 730, unit: "instance-hours", rate: rates.ec2.onDemandHourly["t3a.xlarge"] });
    expect(l.monthly).toBeCloseTo(730 * rates.ec2.onDemandHourly["t3a.xlarge"]!, 2);
  });

  it("prices EBS by type and size: the data volume, the root volume, the runners' volumes", () => {
    expect(lineOf(report, "gitlab-server/data", /200 GB gp3/)).toMatchObject({ quantity: 200, rate: rates.ebs.gbMonth.gp3 });
    expect(lineOf(report, "gitlab-server/instance", /root volume: 30 GB gp3/)).toMatchObject({ quantity: 30 });
    // 1 always on + 2 more 30 % of the time = 1.6 instances of 100 GB on average.
    expect(lineOf(report, "runner-fleet/asg", /instance volumes/).quantity).toBeCloseTo(160, 3);
  });

  it("prices the Spot runners at the stated discount, the base always on and the scale-up by the usage assumption", () => {
    const spotRate = rates.ec2.onDemandHourly["t3a.large"]! * (1 - rates.ec2.spotDiscount);
    expect(lineOf(report, "runner-fleet/asg", /^always on: 1 × t3a\.large, Spot \(65 % under on-demand, assumed\)/)).toMatchObject({
      quantity: 730,
      rate: Number(spotRate.toFixed(6)),
    });
    expect(lineOf(report, "runner-fleet/asg", /^scale-up \(1 always on, 2 more 30 % of the time\)/).quantity).toBeCloseTo(0.6 * 730, 3);
  });

  it("prices snapshots, buckets, alarms, custom metrics, logs and the Elastic IP", () => {
    // 200 GB, half used, 14 kept with 2 % changing a day: 100 × (1 + 0.02 × 13).
    expect(lineOf(report, "backups/snapshots", /14 kept/).quantity).toBeCloseTo(126, 3);
    expect(report.lines.filter((l) => l.item.startsWith("S3 Standard"))).toHaveLength(3);
    // One line per alarm the stack declares (status checks, disk, backup age, runners at max, bootstraps failed…).
    expect(report.lines.filter((l) => l.item === "alarm")).toHaveLength(resources(staging, "aws_cloudwatch_metric_alarm").length);
    // disk (root, data), runner disk, backup age, and the two hosts' BootstrapFailed metrics.
    expect(lineOf(report, "custom metrics", /watched by alarms/).quantity).toBe(6);
    expect(lineOf(report, "6 log groups", /ingested/).quantity).toBe(1);
    expect(lineOf(report, "gitlab-server/eip", /public IPv4/)).toMatchObject({ quantity: 730, rate: 0.005 });
    expect(report.lines.some((l) => /NAT/.test(l.item))).toBe(false);
  });

  it("adds up to its total, and nothing is left unpriced", () => {
    expect(report.unpriced).toEqual([]);
    expect(report.total).toBeCloseTo(
      report.lines.reduce((s, l) => s + (l.monthly ?? 0), 0),
      2,
    );
    expect(report.total).toBeGreaterThan(150);
    expect(report.total).toBeLessThan(300);
  });
});

describe("what the estimate reads", () => {
  it("reads the synthesized stack, not the YAML: a change to the stack's JSON changes it", () => {
    const changed = deepClone(staging);
    const instance = Object.values(changed.resource.aws_instance!)[0]!;
    instance.instance_type = "t3a.2xlarge";
    expect(aws(changed).total - aws(staging).total).toBeCloseTo(730 * (0.3392 - 0.1696), 1);
  });

  it("with another synth to compare with, adds the monthly delta", () => {
    const bigger = validEnvironment({ ...exampleYaml("staging"), aws: { ...exampleYaml("staging").aws, dataVolumeGb: 400 } }, "staging");
    const report = aws(synthToDisk([bigger]).staging!, rates, staging);
    // 200 GB more gp3, and its snapshots.
    expect(report.base!.delta).toBeCloseTo(200 * 0.0928 + 126 * 0.053, 1);
    expect(formatSummaryLine(report)).toMatch(/^cost: staging: \+\d+\.\d\d USD\/month vs the target branch \(\d+\.\d\d → \d+\.\d\d\)$/);
  });

  it("lists what the rate table cannot price instead of guessing", () => {
    const odd = deepClone(staging);
    Object.values(odd.resource.aws_instance!)[0]!.instance_type = "x2iedn.32xlarge";
    odd.resource.aws_rds_cluster = { db: { "//": { metadata: { path: "staging/db" } }, engine: "aurora-postgresql" } };
    const report = aws(odd);
    expect(report.unpriced).toEqual([
      "gitlab-server/instance: x2iedn.32xlarge, on-demand, always on (no rate in the table)",
      "aws_rds_cluster (not priced by this estimator)",
    ]);
    expect(formatText(report)).toContain("not priced: aws_rds_cluster (not priced by this estimator)");
  });
});

describe("resources the examples do not have", () => {
  it("a NAT gateway: its hours and the data it processes (assumed)", () => {
    const withNat = deepClone(staging);
    withNat.resource.aws_nat_gateway = { nat: { "//": { metadata: { path: "staging/network/nat" } }, subnet_id: "subnet-0a00000000000000a" } };
    const report = aws(withNat);
    expect(lineOf(report, "network/nat", /^NAT gateway$/)).toMatchObject({ quantity: 730, rate: rates.vpc.natGatewayHourly });
    expect(lineOf(report, "network/nat", /data processed/)).toMatchObject({ quantity: rates.usage.natGbPerMonth, rate: rates.vpc.natGatewayProcessedGb });
  });

  it("on-demand runners: the group's on-demand base is priced on-demand", () => {
    const onDemand = deepClone(staging);
    const asg = Object.values(onDemand.resource.aws_autoscaling_group!)[0]!;
    asg.mixed_instances_policy.instances_distribution.on_demand_base_capacity = 1;
    const report = aws(onDemand);
    expect(lineOf(report, "runner-fleet/asg", /^always on: 1 × t3a\.large, on-demand$/)).toMatchObject({
      quantity: 730,
      rate: rates.ec2.onDemandHourly["t3a.large"],
    });
    expect(lineOf(report, "runner-fleet/asg", /^scale-up .*Spot/).quantity).toBeCloseTo(0.6 * 730, 3);
  });
});

describe("the rate table", () => {
  it("a user's YAML file overrides it key by key", () => {
    const mine = loadRates(ratesFile("date: '2027-01-01'\nec2:\n  spotDiscount: 0.5\n  onDemandHourly:\n    t3a.xlarge: 0.2\n"));
    expect(mine.date).toBe("2027-01-01");
    expect(mine.ec2.onDemandHourly["t3a.large"]).toBe(rates.ec2.onDemandHourly["t3a.large"]);
    const report = aws(staging, mine);
    expect(lineOf(report, "gitlab-server/instance", /t3a\.xlarge/).rate).toBe(0.2);
    expect(lineOf(report, "runner-fleet/asg", /^always on/).item).toContain("Spot (50 % under on-demand, assumed)");
  });

  it("refuses a bad override, naming the file and the field", () => {
    const file = ratesFile("ec2:\n  spotDiscount: 1.5\nusage:\n  runners:\n    model: jobs\n");
    expect(() => loadRates(file)).toThrow(RatesError);
    expect(() => loadRates(file)).toThrow(new RegExp(`${file}: ec2\\.spotDiscount: `));
  });
});

describe("docker environments", () => {
  it("report the host's resources instead of dollars, the runner containers of homelab-gitlab included", () => {
    const report = estimate("homelab", stacks.homelab!, rates, undefined, [stacks["homelab-gitlab"]!]);
    expect(report.platform).toBe("docker");
    if (report.platform !== "docker") return;
    expect(report.host).toBe("192.0.2.10");
    expect(report.containers.map((c) => c.name)).toEqual(expect.arrayContaining(["gitlab", "traefik", "prometheus", "grafana", "gitlab-runner-build"]));
    expect(report.publishedPorts).toEqual(["80/tcp", "443/tcp", "2222/tcp"]);
    expect(report.hostDirectories).toEqual(expect.arrayContaining(["/srv/gitlab/gitlab/data", "/srv/gitlab/gitlab/config"]));
    const text = formatText(report);
    expect(text).toContain("no cloud charges");
    expect(text).not.toMatch(/USD|\$/);
  });
});

describe("npm run cost", () => {
  // In-process (cliInProcess): the command's own output; scripts/ci/cost-line.sh runs it as a process (test/ci/cost-line.test.ts).
  it("--json gives the report for pipelines; the text names every line and the total", async () => {
    const s = scratchWithExamples("cost-cli-");
    const env = { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: s.outdir };
    const json = await cliInProcess(["cost", "staging", "--json"], env);
    expect(json.stderr).toBe("");
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as Aws;
    expect(report).toMatchObject({ environment: "staging", platform: "aws", total: aws(staging).total });
    const text = await cliInProcess(["cost", "staging", "--no-synth"], env);
    expect(text.stdout).toMatch(/\ntotal +\d+\.\d\d\n/);
    const homelab = await cliInProcess(["cost", "homelab"], env);
    expect(homelab.stdout).toMatch(/^homelab \(docker\): runs on your Docker host/);
    expect((await cliInProcess(["cost", "staging", "--rates", "/nowhere.yaml"], env)).stderr).toMatch(/^\/nowhere\.yaml: ENOENT/);
  });
});
