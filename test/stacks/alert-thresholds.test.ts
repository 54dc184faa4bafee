// observability.alertThresholds, from the environment file to the rules each platform deploys:
// the docker host's rule file and its promtool tests (run here, as npm run verify does), and
// the cluster's PrometheusRule.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkPrometheusRuleTests } from "../../scripts/verify/checkers";
import { unescapeTemplate } from "../../scripts/verify/terraform";
import { findTool } from "../../scripts/verify/tools";
import { observabilityProps } from "../../stacks/kubernetes/observability";
import type { KubernetesEnvironment } from "../../stacks/kubernetes/environment";
import { deepClone, exampleYaml, resources, synthEnvironment, validEnvironment } from "../helpers";

const THRESHOLDS = { sidekiqQueueBacklog: 250, pumaSaturationRatio: 0.75, diskFreeWarningRatio: 0.3, diskFreeCriticalRatio: 0.1 };

const withThresholds = (example: "homelab" | "k3s-homelab") => {
  const c = deepClone(exampleYaml(example));
  c.observability = { ...c.observability, alertThresholds: THRESHOLDS };
  return validEnvironment(c, example);
};

const RULES = "/etc/prometheus/rules/gitlab.rules.yml";
const RULE_TESTS = "/etc/prometheus/rules/gitlab.rules.test.yml";
const promtool = findTool("promtool");

describe("alert thresholds from config (docker)", () => {
  const prometheus = resources(synthEnvironment(withThresholds("homelab")), "docker_container").find((c) => c.name === "prometheus");
  const upload = (file: string) => unescapeTemplate(prometheus.upload.find((u: any) => u.file === file).content as string);
  const rule = (name: string) => parse(upload(RULES)).groups[0].rules.find((r: any) => r.alert === name);

  it("render the rules with them", () => {
    expect(rule("GitLabSidekiqQueueBacklog").expr).toBe('sum(sidekiq_queue_size{job="gitlab-exporter"}) > 250');
    expect(rule("GitLabPumaSaturated").expr).toMatch(/ > 0\.75$/);
    expect(rule("GitLabDiskSpaceLow").expr).toMatch(/ < 0\.3$/);
    expect(rule("GitLabDiskNearlyFull").expr).toMatch(/ < 0\.1$/);
    expect(rule("GitLabDiskNearlyFull").annotations.description).toContain("critical below 10% for 5m");
    // Unset ones keep their defaults.
    expect(rule("GitLabSidekiqJobFailureRate").expr).toMatch(/ > 0\.05$/);
  });

  // Missing promtool skips on a laptop and fails in CI (CI=true), like npm run verify.
  it.runIf(promtool !== undefined || process.env.CI === "true")("deploy promtool tests that pass against the deployed rules", async () => {
    const result = await checkPrometheusRuleTests({ path: RULE_TESTS, content: upload(RULE_TESTS) }, [{ path: RULES, content: upload(RULES) }]);
    expect(result.findings).toEqual([]);
    expect(result.status).toBe("ok");
    // The tests were built from the same thresholds: 250 jobs is not a backlog, twice that is.
    expect(upload(RULE_TESTS)).toContain("GitLabSidekiqQueueBacklog: exactly the threshold (250 jobs) is not a backlog");
  });
});

describe("alert thresholds from config (kubernetes)", () => {
  const env = withThresholds("k3s-homelab") as KubernetesEnvironment;

  it("reach the observability construct whole", () => {
    expect(observabilityProps(env, { name: "gitlab" } as never)?.alertThresholds).toEqual({ ...THRESHOLDS, sidekiqFailureRatio: 0.05, ciJobFailureRatio: 0.1 });
  });

  it("render the PrometheusRule with them", () => {
    const manifest = resources(synthEnvironment(env), "kubernetes_manifest").find((m) => m.manifest.kind === "PrometheusRule").manifest;
    const rule = (name: string) => manifest.spec.groups[0].rules.find((r: any) => r.alert === name);
    expect(rule("GitLabSidekiqQueueBacklog").expr).toMatch(/ > 250$/);
    expect(rule("GitLabPumaSaturated").expr).toMatch(/ > 0\.75$/);
    expect(rule("GitLabDiskSpaceLow").expr).toMatch(/ < 0\.3$/);
    expect(rule("GitLabDiskNearlyFull").expr).toMatch(/ < 0\.1$/);
  });
});
