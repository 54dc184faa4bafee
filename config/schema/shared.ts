// Sections whose shape is the same on both platforms.
import { z } from "zod";
import { RULE_IDS } from "../../policies/index";
import { DEFAULT_ALERT_THRESHOLDS as D } from "../../userdata/monitoring/alert-rules";
import { dnsLabel } from "./primitives";

export const registrySection = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Run GitLab's container registry. @default true"),
    hostname: dnsLabel.default("registry").describe("Registry host name under the domain. @default 'registry'"),
  })
  .describe("GitLab's integrated container registry, on its own host name.");

export function dnsSection<S extends z.ZodType>(secretRef: S, platform: { readonly proxiedByDefault: boolean; readonly proxiedNote: string }) {
  return z
    .strictObject({
      zoneId: z
        .string()
        .regex(/^[a-f0-9]{32}$/, "must be the 32-character Cloudflare zone id (Overview page of the zone)")
        .describe("Cloudflare zone id of the domain."),
      apiToken: secretRef.describe(
        "Reference to a Cloudflare API token with Zone:DNS:Edit, plus Zone:Zone:Read on docker (Traefik's DNS-01) and Zone:Zone Settings:Edit on aws.",
      ),
      proxied: z
        .boolean()
        .default(platform.proxiedByDefault)
        .describe(
          "Proxy the web and registry records through Cloudflare. The git SSH record is always DNS-only. Cloudflare's Free and Pro plans refuse request bodies over 100 MB while proxied: a registry layer, job artifacts, LFS objects or a git push over HTTPS larger than that fails. " +
            `${platform.proxiedNote} @default ${platform.proxiedByDefault}`,
        ),
    })
    .describe("Cloudflare DNS for the GitLab, registry and git SSH host names.");
}

export const retentionDays = z.int().min(1).max(3650);

/** backups.maxAgeHours where Prometheus alerts on the backup age (docker, kubernetes): up to two weeks. */
export const prometheusBackupMaxAgeHours = z
  .int()
  .min(2)
  .max(24 * 14)
  .default(26)
  .describe("Alert when the newest backup is older. @default 26");

/** A share between 0 and 1 (exclusive); `example` shows it as a percentage in the error. */
const ratio = (example: number, description: string) => {
  const hint = `(a ratio: ${example} is ${Number((example * 100).toPrecision(6))}%)`;
  return z.number().gt(0, hint).lt(1, hint).default(example).describe(`${description} @default ${example}`);
};

/** The alert rules' thresholds (userdata/monitoring/alert-rules.ts); the backup age is backups.maxAgeHours. */
export const alertThresholdsSection = z
  .strictObject({
    sidekiqQueueBacklog: z
      .int()
      .min(2)
      .max(1_000_000)
      .default(D.sidekiqQueueBacklog)
      .describe(`Jobs waiting in all Sidekiq queues together for 15 minutes before GitLabSidekiqQueueBacklog fires. @default ${D.sidekiqQueueBacklog}`),
    sidekiqFailureRatio: ratio(D.sidekiqFailureRatio, "Share of Sidekiq jobs failing over 15 minutes at which GitLabSidekiqJobFailureRate fires."),
    ciJobFailureRatio: ratio(
      D.ciJobFailureRatio,
      "Share of CI jobs failing for reasons other than their own script or timeout, over 30 minutes, at which GitLabCiJobFailureRate fires.",
    ),
    pumaSaturationRatio: ratio(D.pumaSaturationRatio, "Busy Puma threads over all Puma threads at which GitLabPumaSaturated fires."),
    diskFreeWarningRatio: ratio(
      D.diskFreeWarningRatio,
      "Free share of a filesystem (docker) or volume (kubernetes) below which GitLabDiskSpaceLow fires (warning).",
    ),
    diskFreeCriticalRatio: ratio(D.diskFreeCriticalRatio, "Free share below which GitLabDiskNearlyFull fires (critical); below diskFreeWarningRatio."),
  })
  .check((ctx) => {
    const { diskFreeWarningRatio: warning, diskFreeCriticalRatio: critical } = ctx.value;
    if (critical < warning) return;
    ctx.issues.push({
      code: "custom",
      input: critical,
      path: ["diskFreeCriticalRatio"],
      message: `must be below diskFreeWarningRatio (${warning}), got ${critical}`,
    });
  })
  .describe("Thresholds of the alert rules, each defaulted; the backup age is backups.maxAgeHours. @default the defaults of each field");

export const policySection = z
  .strictObject({
    suppressions: z
      .array(
        z.strictObject({
          rule: z.enum(RULE_IDS).describe("Rule id, as printed in the violation (README, Policies)."),
          path: z
            .string()
            .regex(/^[a-z][a-z0-9-]*(\/[A-Za-z0-9_.-]+)+$/, "must be a resource's construct path like 'staging/gitlab-server/sg'")
            .describe("Construct path of the one resource, exactly as printed in the violation."),
          reason: z
            .string()
            .trim()
            .min(20, "must explain in at least 20 characters why the risk is accepted")
            .describe("Why the risk is accepted; kept in review history."),
        }),
      )
      .default([])
      .describe("Policy rules switched off for one resource each, with a written reason. A suppression that matches no violation fails synth."),
  })
  .describe("Security and data-safety policies checked at synth.");

export const stateSection = z
  .discriminatedUnion("backend", [
    z.strictObject({ backend: z.literal("local").describe("terraform.<env>.tfstate in the project root (homelab, trying things out).") }),
    z.strictObject({
      backend: z.literal("s3").describe("An S3 bucket with Terraform's native lock file (Terraform >= 1.10)."),
      bucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name")
        .describe("Existing state bucket (versioned, encrypted)."),
      key: z
        .string()
        .regex(/^[A-Za-z0-9!_.*'()/-]+\.tfstate$/, "must be an object key ending in .tfstate")
        .optional()
        .describe("Object key. @default 'gitlab-platform/<environment>.tfstate'"),
      region: z
        .string()
        .regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region like 'eu-west-3'")
        .describe("Region of the bucket."),
      kmsKeyId: z.string().startsWith("arn:aws", "must be a KMS key ARN").optional().describe("Encrypt state with this KMS key. @default SSE-S3"),
    }),
    z.strictObject({
      backend: z
        .literal("gitlab")
        .describe("GitLab-managed Terraform state over HTTP. Address and credentials come only from the environment (TF_HTTP_*), never from config."),
    }),
  ])
  .describe("Where this environment's Terraform state lives.");
