// The GitLab server itself: version, host names, SSH, mail, SSO, database, memory profile.
import { z } from "zod";
import { gitlabContentFields } from "./gitlab-content";
import { dnsLabel, emailAddress, hostOrIp, httpsUrl, omnibusVersion, port } from "./primitives";

/** Top-level domains reserved so that no real mailbox, or IdP account verified by mail, can use them (RFC 2606, RFC 6761). */
const RESERVED_EMAIL_DOMAIN = /@(?:[a-z0-9-]+\.)*(?:invalid|test|localhost|example)$/i;

/** The git SSH host name when config names none: derived from the web host name. */
export const defaultSshHostname = (webHostname: string): string => `ssh-${webHostname}`;

export function gitlabSection<S extends z.ZodType>(
  secretRef: S,
  platform: {
    readonly defaultSshPort: number;
    /** How this platform pins GitLab. @default an Omnibus package version (aws, docker) */
    readonly version?: z.ZodString;
  },
) {
  return z
    .strictObject({
      version: (platform.version ?? omnibusVersion).describe(
        platform.version
          ? "Exact GitLab CE version the pinned chart ships (its images are tagged v<version>)."
          : "Exact GitLab CE version: the Omnibus package on aws, the image tag on docker.",
      ),
      hostname: dnsLabel.default("gitlab").describe("Web host name under the domain. @default 'gitlab'"),
      sshHostname: dnsLabel.optional().describe("Git SSH host name under the domain; always DNS-only. @default 'ssh-' + hostname"),
      sshPort: port
        .default(platform.defaultSshPort)
        .describe(`Port for git over SSH. @default ${platform.defaultSshPort}${platform.defaultSshPort === 22 ? "" : " (the host's own OpenSSH keeps 22)"}`),
      timeZone: z.string().min(1).default("UTC").describe("@default 'UTC'"),
      memoryProfile: z
        .enum(["standard", "small"])
        .default("standard")
        .describe("'small' tunes Puma, Sidekiq and PostgreSQL for hosts with little RAM (e.g. a 4 GB homelab VM). @default 'standard'"),
      emailFrom: emailAddress.optional().describe("Sender address of GitLab's e-mail. @default 'gitlab@<domain>'"),
      smtp: smtpSection(secretRef).optional(),
      sso: ssoSection(secretRef).optional(),
      externalDatabase: externalDatabaseSection(secretRef).optional(),
      ...gitlabContentFields,
    })
    .describe("The GitLab server.");
}

/** Outgoing mail through an SMTP relay. */
function smtpSection<S extends z.ZodType>(secretRef: S) {
  return z
    .strictObject({
      host: hostOrIp.describe("SMTP relay host, e.g. 'smtp-relay.example.com'."),
      port: port.default(587).describe("SMTP port. @default 587 (STARTTLS submission)"),
      username: z.string().min(1).describe("SMTP user name."),
      password: secretRef.describe("Reference to the SMTP password."),
      security: z.enum(["starttls", "tls", "none"]).default("starttls").describe("'starttls' on 587, 'tls' for implicit TLS on 465. @default 'starttls'"),
      domain: z.string().optional().describe("HELO domain. @default the environment's domain"),
    })
    .describe("Outgoing mail through an SMTP relay (e.g. a relay on port 587 with STARTTLS).");
}

/** OpenID Connect single sign-on, with the break-glass admin rule. */
function ssoSection<S extends z.ZodType>(secretRef: S) {
  return z
    .strictObject({
      label: z.string().min(1).default("SSO").describe("Button label on the sign-in page. @default 'SSO'"),
      issuer: httpsUrl.describe("OpenID Connect issuer URL, e.g. 'https://auth.example.com/application/o/gitlab/'."),
      clientId: z.string().min(1).describe("OIDC client id (not a secret)."),
      clientSecret: secretRef.describe("Reference to the OIDC client secret."),
      autoSignIn: z
        .boolean()
        .default(true)
        .describe("Send the sign-in page straight to the provider. Admins reach the password form at /users/sign_in?auto_sign_in=false. @default true"),
      blockAutoCreatedUsers: z
        .boolean()
        .default(false)
        .describe(
          "Hold accounts created by a first SSO sign-in until an admin approves them. Off: the IdP is the gate (bind GitLab's application in the IdP to the group allowed in). @default false",
        ),
      autoLinkUsers: z
        .boolean()
        .default(false)
        .describe(
          "Link an existing GitLab account to the IdP user with the same e-mail at sign-in. A linked account can no longer use its password, and whoever controls that e-mail in the IdP gets the account: needs breakGlassAdminEmail. @default false",
        ),
      breakGlassAdminEmail: emailAddress
        .optional()
        .describe(
          "With autoLinkUsers: the e-mail of the local admin kept for when the IdP is down, at a reserved domain no IdP user can have (e.g. break-glass@gitlab.invalid). Checked after every reconfigure.",
        ),
    })
    .superRefine((sso, ctx) => {
      if (!sso.autoLinkUsers) return;
      if (!sso.breakGlassAdminEmail) {
        ctx.addIssue({
          code: "custom",
          path: ["breakGlassAdminEmail"],
          message: "required when autoLinkUsers is true: the local admin must keep its password",
        });
      } else if (!RESERVED_EMAIL_DOMAIN.test(sso.breakGlassAdminEmail)) {
        ctx.addIssue({
          code: "custom",
          path: ["breakGlassAdminEmail"],
          message: "must be at a reserved domain no mailbox or IdP account can have (.invalid, .test, .localhost, .example)",
        });
      }
    })
    .describe(
      "OpenID Connect single sign-on. Users with an SSO identity cannot use a password and the sign-up form is off; local admin accounts keep password login for break-glass access.",
    );
}

/** An existing PostgreSQL server instead of the bundled one. */
function externalDatabaseSection<S extends z.ZodType>(secretRef: S) {
  return z
    .strictObject({
      host: hostOrIp.describe("PostgreSQL host, e.g. an existing RDS endpoint."),
      port: port.default(5432).describe("@default 5432"),
      name: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .default("gitlabhq_production")
        .describe("@default 'gitlabhq_production'"),
      username: z.string().min(1).default("gitlab").describe("@default 'gitlab'"),
      password: secretRef.describe("Reference to the database password."),
      sslMode: z.enum(["disable", "prefer", "require", "verify-full"]).default("require").describe("@default 'require'"),
    })
    .describe("Use an existing PostgreSQL server instead of the bundled one (e.g. Amazon RDS).");
}
