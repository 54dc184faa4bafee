// The docker platform: everything on one Docker host (a homelab VM).
import { z } from "zod";
import { absolutePath, cronSchedule, dockerDuration, emailAddress, hostOrIp, httpsUrl, ipv4, memorySize, pinnedImage, runnerVersion } from "./primitives";
import { jobDockerAccess } from "./job-docker-access";
import { registrationFields } from "./runner-registration";
import { hostFileRef } from "./secrets";
import { alertThresholdsSection, prometheusBackupMaxAgeHours, retentionDays } from "./shared";

const dockerImagesSection = z
  .strictObject({
    traefik: pinnedImage.default("traefik:v3.5.3"),
    prometheus: pinnedImage.default("prom/prometheus:v3.7.3"),
    alertmanager: pinnedImage.default("prom/alertmanager:v0.28.1"),
    grafana: pinnedImage.default("grafana/grafana:12.2.1"),
    dockerCli: pinnedImage
      .default("docker:28.5.1-cli")
      .describe("Image of the scheduler containers (backups, Docker cleanup) and of deploy jobs: Docker CLI, Compose and busybox crond."),
    jobsFirewall: pinnedImage
      .default("docker:28.5.1-dind")
      .describe("Image of the container that keeps build jobs off the LAN: it needs iptables (nft and legacy), which the dind variant has."),
  })
  .describe("Pinned images of the supporting containers (GitLab's and the runner's follow their versions).");

export const dockerSection = z
  .strictObject({
    host: z
      .unknown()
      .refine((v) => v === undefined, {
        message:
          "no longer used: Terraform reaches the Docker daemon through DOCKER_HOST (the local socket when unset): on a workstation `export DOCKER_HOST=ssh://deploy@<host>`; in the pipeline the deploy runner's jobs have the host's socket. Remove this key",
      })
      .optional()
      .describe("Removed: set DOCKER_HOST where Terraform runs (the pipeline's apply jobs use the host's socket)."),
    publicAddress: ipv4.describe("Address the DNS records point at (the host's public or port-forwarded IP)."),
    dataRoot: absolutePath
      .default("/srv/gitlab")
      .describe("Host directory under which every container's persistent data lives, and secrets/ the secret files. @default '/srv/gitlab'"),
    networkName: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/)
      .default("gitlab")
      .describe("Private Docker network. @default 'gitlab'"),
    networkCidr: z
      .cidrv4()
      .refine((cidr) => Number(cidr.split("/")[1]) <= 28, "must be a /28 or larger: Traefik and Prometheus take fixed addresses at its end")
      .default("172.30.0.0/24")
      .describe(
        "Subnet of the private network. Traefik and Prometheus get the last two usable addresses (GitLab trusts those two, not the network); Docker hands out the others from the start. @default '172.30.0.0/24'",
      ),
    shmSizeMb: z.int().min(64).max(4096).default(256).describe("GitLab container /dev/shm in MB (Prometheus metrics need it). Was shmSize. @default 256"),
    images: dockerImagesSection.prefault({}),
  })
  .describe("The Docker host everything runs on.");

/** The runners' host-file tokens: the `<env>-gitlab` stack registers the runners and hands their tokens over. */
const removedRunnerToken = z
  .unknown()
  .refine((v) => v === undefined, {
    message:
      "no longer used: the `<env>-gitlab` stack registers this runner (gitlab_user_runner) and uploads its token into the runner's container. Remove this key (and the file under <dataRoot>/secrets/); an existing homelab migrates once from a workstation (docs/operations.md, 'Runners registered by Terraform')",
  })
  .optional()
  .describe("Removed: the runner's token comes from the gitlab_user_runner of the `<env>-gitlab` stack.");

export const dockerRunnersSection = z
  .strictObject({
    version: runnerVersion.describe("gitlab-runner image version (gitlab/gitlab-runner:alpine-v<version>)."),
    concurrent: z.int().min(1).max(64).default(4).describe("Jobs at once on the `docker` build runner (the deploy runner runs one at a time). @default 4"),
    build: z
      .strictObject({
        token: removedRunnerToken,
        ...registrationFields({ tags: ["docker"], protected: false, runUntagged: false }),
        jobImage: pinnedImage.default("alpine:3.20").describe("@default 'alpine:3.20'"),
        dockerAccess: jobDockerAccess("none"),
        privileged: z.boolean().default(false).describe("Privileged job containers. @default false"),
        jobMemory: memorySize.optional().describe("Memory limit per job container."),
        dns: z
          .array(ipv4)
          .min(1)
          .default(["1.1.1.1", "9.9.9.9"])
          .describe(
            "DNS servers of build jobs. Jobs may not reach private addresses, so a resolver on the LAN (often the router) would not answer them. @default ['1.1.1.1', '9.9.9.9']",
          ),
        allowPrivateNetworks: z
          .array(z.cidrv4())
          .default([])
          .describe(
            "Private networks build jobs may reach all the same, e.g. a package mirror on the LAN. Everything private is refused otherwise: the NAS, the router, the host's own services. @default []",
          ),
      })
      .describe("Build runner, tag 'docker': every job in a fresh container."),
    cleanupSchedule: cronSchedule.default("0 */6 * * *").describe("When unused Docker data is pruned, as cron in UTC. @default '0 */6 * * *' (every 6 hours)"),
    cleanupOlderThan: dockerDuration
      .default("4h")
      .describe("Only prune the runners' stopped containers, dangling images and build cache older than this. @default '4h'"),
    cleanupCacheOlderThan: dockerDuration
      .default("168h")
      .describe("Remove the runners' unused cache volumes created longer ago than this (the next job fills the cache again). @default '168h' (7 days)"),
    deploy: z
      .strictObject({
        token: removedRunnerToken,
        ...registrationFields({ tags: ["deploy"], protected: true, runUntagged: false }),
        jobImage: pinnedImage
          .optional()
          .describe(
            "Default image of deploy jobs; jobs install what else they need (e.g. `apk add ansible`). @default docker.images.dockerCli (the Docker CLI with Compose)",
          ),
      })
      .optional()
      .describe(
        "Deploy runner, tag 'deploy', protected refs only: its jobs get the host's Docker, and check out under <dataRoot>/deploy-builds, mounted at the same path so `docker compose` bind mounts resolve on the host.",
      ),
  })
  .describe("Two runners as a security boundary: build jobs without the host's Docker, deploys from protected refs only.");

/** The docker runners' settings as config parsed them (defaults applied): what the runner containers and their config.toml take whole. */
export type DockerRunnersConfig = z.infer<typeof dockerRunnersSection>;

export const dockerBackupsSection = z
  .strictObject({
    schedule: cronSchedule.default("0 2 * * *").describe("When the backup runs, as cron in UTC. @default '0 2 * * *' (daily 02:00)"),
    nfs: z
      .strictObject({
        server: hostOrIp.describe("NFS server, e.g. a TrueNAS box."),
        export: absolutePath.describe("Exported path, e.g. '/mnt/tank/backups/gitlab'."),
      })
      .describe("Where archives and the config/secrets copy go."),
    retentionDays: retentionDays.default(14).describe("@default 14"),
    maxAgeHours: prometheusBackupMaxAgeHours,
  })
  .describe("Scheduled `gitlab-backup create` to an NFS share, plus gitlab.rb and gitlab-secrets.json.");

const alertReceiver = z.union([
  z.strictObject({
    email: z.strictObject({
      to: emailAddress,
      from: emailAddress,
      smarthost: z.string().regex(/^[A-Za-z0-9.-]+:\d+$/, "must be host:port"),
      auth: z
        .strictObject({
          username: z.string().min(1).describe("SMTP user name."),
          password: hostFileRef.describe("File holding the SMTP password."),
        })
        .optional()
        .describe(
          "SMTP login for relays that need one (e.g. submission on 587). Alertmanager reads the password from its host file " +
            "(auth_password_file), and TLS is always required, so it never crosses the wire in clear. @default no login",
        ),
    }),
  }),
  z.strictObject({ webhook: z.strictObject({ url: hostFileRef.describe("File holding the webhook URL (it often embeds a token).") }) }),
]);

export const dockerObservabilitySection = z
  .strictObject({
    metricsRetentionDays: retentionDays.default(15).describe("How long Prometheus keeps metrics, in days. Was retentionDays. @default 15"),
    alertReceiver: alertReceiver.describe("Where Alertmanager sends alerts: { email: … } or { webhook: … }."),
    alertThresholds: alertThresholdsSection.prefault({}),
    grafanaAdminPassword: hostFileRef.describe("File holding Grafana's admin password (used when Grafana first creates its database)."),
    grafanaHostname: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .default("grafana")
      .describe("@default 'grafana'"),
    grafanaSso: z
      .strictObject({
        label: z.string().min(1).default("SSO").describe("Button label on Grafana's sign-in page. @default 'SSO'"),
        authUrl: httpsUrl.describe("The IdP's authorization endpoint, e.g. 'https://auth.example.com/application/o/authorize/'."),
        tokenUrl: httpsUrl.describe("The IdP's token endpoint, e.g. 'https://auth.example.com/application/o/token/'."),
        userinfoUrl: httpsUrl.describe("The IdP's userinfo endpoint, e.g. 'https://auth.example.com/application/o/userinfo/'."),
        clientId: z.string().min(1).describe("OAuth client id of Grafana's application in the IdP (not a secret)."),
        clientSecret: hostFileRef.describe("File holding the OAuth client secret."),
        adminGroup: z.string().min(1).default("grafana-admins").describe("IdP group whose members are Grafana Admins. @default 'grafana-admins'"),
        editorGroup: z
          .string()
          .min(1)
          .default("grafana-editors")
          .describe("IdP group whose members are Grafana Editors; everyone else is a Viewer. @default 'grafana-editors'"),
      })
      .optional()
      .describe(
        "Grafana signs people in through the IdP (generic OAuth), like GitLab: bind Grafana's application in the IdP to the group allowed in, and send the groups claim. The admin password stays for when the IdP is down.",
      ),
    grafanaAllowFrom: z
      .array(z.cidrv4())
      .min(1)
      .optional()
      .describe(
        "Networks Traefik lets reach Grafana (e.g. your LAN). Required without grafanaSso; not behind Cloudflare's proxy; must not overlap docker.networkCidr, whose gateway build jobs arrive from. @default anyone, when grafanaSso is set",
      ),
  })
  .describe("Prometheus, Alertmanager and Grafana on the same host.");

export const dockerTlsSection = z
  .strictObject({
    acmeEmail: emailAddress.describe("Let's Encrypt account e-mail for Traefik's DNS-01 certificates."),
    dnsApiToken: hostFileRef.describe(
      "File holding Traefik's own Cloudflare API token for the DNS-01 challenge: Zone:DNS:Edit and Zone:Zone:Read on this zone only. Not dns.apiToken: Traefik faces the internet, and Terraform's token can change more.",
    ),
    acmeStaging: z
      .boolean()
      .default(false)
      .describe(
        "Use Let's Encrypt's staging CA while testing. Its certificates are not trusted: the runners and Prometheus (which reach GitLab through Traefik) fail TLS until it is off again. @default false",
      ),
  })
  .describe("Traefik terminates TLS with Let's Encrypt certificates obtained through Cloudflare DNS-01.");
