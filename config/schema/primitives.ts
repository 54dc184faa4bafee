// Small reusable field types. Each carries the message a user sees when it is wrong.
import { z } from "zod";
import { cronScheduleProblem } from "../../userdata/crontab";
import { cronToOnCalendar, isOnCalendarForm } from "../../userdata/systemd-calendar";
import { didYouMean } from "./did-you-mean";
import { EC2_INSTANCE_TYPES } from "./ec2-instance-types";

export const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be one lower-case DNS label, e.g. 'gitlab'");

export const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a lower-case domain name, e.g. 'example.com'");

/** A host name or IPv4 address (SMTP relay, database, NFS server). */
export const hostOrIp = z
  .string()
  .regex(/^(([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*|(\d{1,3}\.){3}\d{1,3})$/i, "must be a host name or an IPv4 address");

export const ipv4 = z.ipv4({ error: "must be an IPv4 address, e.g. '192.0.2.10'" });
export const cidr = z.cidrv4({ error: "must be an IPv4 CIDR block, e.g. '10.0.0.0/16'" });

export const port = z.int().min(1).max(65535);

export const emailAddress = z.email({ error: "must be an e-mail address" });

export const httpsUrl = z.url({ protocol: /^https$/, error: "must be an https:// URL" });

export const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, "must be an absolute path of letters, digits, '.', '_', '-' and '/'")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");

/** An Omnibus package version: the Docker image tag and the apt version are the same string. */
export const omnibusVersion = z.string().regex(/^\d+\.\d+\.\d+-ce\.\d+$/, "must be an exact GitLab CE version like '18.5.1-ce.0' (no 'latest')");

/** A gitlab-runner release, e.g. '18.5.0'. */
export const runnerVersion = z.string().regex(/^\d+\.\d+\.\d+$/, "must be an exact gitlab-runner version like '18.5.0'");

/** A container image reference with an explicit, non-latest tag (or a digest). */
export const pinnedImage = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$/, "must be an image reference like 'alpine:3.20'")
  .refine((ref) => /@sha256:/.test(ref) || /:[^/]+$/.test(ref), "must pin a tag or digest, e.g. 'alpine:3.20' — an untagged image means 'latest'")
  .refine((ref) => !/:latest(@|$)/.test(ref), "must not use the 'latest' tag: pin a version");

/** A systemd OnCalendar expression; systemd-analyze checks the rendered units in `npm run verify`. */
export const onCalendar = z.string().regex(/^[A-Za-z0-9 *:,./~-]+$/, "must be a systemd OnCalendar expression, e.g. '*-*-* 02:00:00'");

export const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region like 'eu-west-3'");

const KNOWN_INSTANCE_TYPES = new Set(EC2_INSTANCE_TYPES);
/** The sizes of a type's family ('t3.huge' → every 't3.' type). */
const sameFamily = (type: string) => EC2_INSTANCE_TYPES.filter((t) => t.startsWith(`${type.split(".")[0]}.`));

/** An EC2 instance type that exists (ec2-instance-types.ts, generated from the AWS SDK). */
export const instanceType = z.string().check((ctx) => {
  if (KNOWN_INSTANCE_TYPES.has(ctx.value)) return;
  ctx.issues.push({
    code: "custom",
    input: ctx.value,
    message: `unknown EC2 instance type '${ctx.value}'${didYouMean(ctx.value, EC2_INSTANCE_TYPES, sameFamily)} (known types: config/schema/ec2-instance-types.ts, from the AWS SDK)`,
  });
});

export const memorySize = z.string().regex(/^\d+[kmg]$/, "must be a Docker memory size like '6g' or '512m'");

/** A five-field cron expression (minute hour day-of-month month day-of-week), run in UTC by busybox crond. */
export const cronSchedule = z.string().check((ctx) => {
  const problem = cronScheduleProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", message: `invalid cron schedule: ${problem}`, input: ctx.value });
});

/**
 * A backup schedule on a systemd host: cron in UTC (converted to OnCalendar for the timer), or,
 * deprecated (config/deprecations.ts), the OnCalendar expression itself.
 */
export const backupSchedule = z.string().check((ctx) => {
  if (isOnCalendarForm(ctx.value)) return;
  const problem = cronScheduleProblem(ctx.value);
  if (problem) return void ctx.issues.push({ code: "custom", message: `invalid cron schedule: ${problem}`, input: ctx.value });
  try {
    cronToOnCalendar(ctx.value);
  } catch (e) {
    ctx.issues.push({
      code: "custom",
      message: (e as Error).message.replace(/^cron schedule '[^']*': /, "this cron schedule has no systemd timer equivalent: "),
      input: ctx.value,
    });
  }
});

/** A Docker duration filter such as '4h' or '90m'. */
export const dockerDuration = z.string().regex(/^\d+[smh]$/, "must be a duration like '4h' or '90m'");
