// No secret ever reaches cdktf.out. Every example plus three environments that reference every
// kind of secret the schema supports are synthesized by the app's entry point, in this process
// (cli/app.ts's runApp, what the bundle cdktf runs calls; test/cli/bundle.test.ts keeps the
// bundle writing what the sources write); then every file it wrote is scanned for anything
// secret-shaped, and the stacks are checked structurally: variables are sensitive, outputs do
// not expose them, and a secret reference shows up only as `${var.<name>}` (Terraform), as its
// Secrets Manager ARN, or as a read-only bind mount of its file on the Docker host.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEnvironmentSchema, dockerEnvironmentSchema, kubernetesEnvironmentSchema } from "../../config/schema/index";
import { deepClone, exampleYaml } from "../helpers";
import { runAppInProcess, scratchWithExamples, type AppRun, type Scratch } from "../support/run-app";
import { filesUnder } from "../support/files";
import { formatFindings, scanText, scanTree } from "../support/secret-scan";

type Config = Record<string, any>;

const arn = (name: string) => ({
  secretsManagerArn: `arn:aws:secretsmanager:eu-west-3:333333333333:secret:hygiene/${name}-AbCdEf`,
});
const tfVar = (name: string) => ({ terraformVariable: name });
const hostFile = (name: string) => ({ hostFile: name });

/** aws with every secret: SMTP, SSO, external database, runner token, TLS certificate and key, Cloudflare token. */
function awsWithEverySecret(): Config {
  const c = deepClone(exampleYaml("staging"));
  c.gitlab.hostname = "gitlab-hygiene";
  c.gitlab.sshHostname = "ssh-gitlab-hygiene";
  c.registry = { hostname: "registry-hygiene" };
  c.gitlab.smtp = { host: "smtp-relay.example.com", username: "gitlab@example.com", password: arn("smtp-password") };
  c.gitlab.sso = {
    label: "Okta",
    issuer: "https://auth.example.com/oauth2/default",
    clientId: "0oa1b2c3d4e5f6g7h8i9",
    clientSecret: arn("oidc-client-secret"),
  };
  c.gitlab.externalDatabase = { host: "hygiene-db.abcdefghijkl.eu-west-3.rds.amazonaws.com", password: arn("db-password") };
  c.runners.token = arn("runner-token");
  c.tls.certificate = arn("origin-certificate");
  c.tls.privateKey = arn("origin-private-key");
  c.dns.apiToken = tfVar("hygiene_aws_cloudflare_api_token");
  return c;
}

/** docker with every secret: SMTP, SSO, external database, both Cloudflare tokens, Grafana (password, OAuth), webhook URL (the runners' tokens come from homelab-gitlab). */
function dockerWithEverySecret(): Config {
  const c = deepClone(exampleYaml("homelab"));
  c.gitlab.smtp = { host: "smtp.example.com", username: "gitlab@example.com", password: hostFile("hygiene_smtp_password") };
  c.gitlab.sso = {
    label: "Authentik",
    issuer: "https://auth.example.com/application/o/gitlab/",
    clientId: "gitlab",
    clientSecret: hostFile("hygiene_oidc_client_secret"),
  };
  c.gitlab.externalDatabase = { host: "db.example.com", password: hostFile("hygiene_db_password") };
  c.dns.apiToken = tfVar("hygiene_cloudflare_api_token");
  c.tls.dnsApiToken = hostFile("hygiene_traefik_dns_token");
  c.runners.deploy = {};
  c.observability.grafanaAdminPassword = hostFile("hygiene_grafana_admin_password");
  c.observability.grafanaSso.clientSecret = hostFile("hygiene_grafana_oauth_secret");
  c.observability.alertReceiver = { webhook: { url: hostFile("hygiene_alert_webhook_url") } };
  return c;
}

/** docker alerting by e-mail with an SMTP login: the receiver is a union, so it cannot sit beside the webhook URL above. */
function dockerWithMailLogin(): Config {
  const c = deepClone(exampleYaml("homelab"));
  c.observability.alertReceiver = {
    email: {
      to: "ops@example.com",
      from: "alertmanager@example.com",
      smarthost: "smtp.example.com:587",
      auth: { username: "alertmanager@example.com", password: hostFile("hygiene_alert_smtp_password") },
    },
  };
  return c;
}

let nextPublicAddress = 100;
/** Names of its own (domain, state key, Docker host's address): environments of one directory must not collide. */
function ownNames(name: string, config: Config): Config {
  const c = structuredClone(config);
  c.domain = `${name}.example.com`;
  if (c.state?.backend === "s3") c.state.key = `gitlab-platform/${name}.tfstate`;
  if (c.docker) c.docker.publicAddress = `192.0.2.${nextPublicAddress++}`;
  if (c.tls && c.platform === "aws") c.tls.strictSslMode = false;
  if (c.kubernetes) c.kubernetes.kubeconfig.context = name;
  return c;
}

/** kubernetes with every secret as a variable: SMTP, SSO, external PostgreSQL and Redis, S3 keys, Cloudflare, Argo CD's SSO (the runner's token comes from the second stack). */
function kubernetesWithEverySecret(): Config {
  const c = deepClone(exampleYaml("k3s-homelab"));
  c.gitlab.hostname = "gitlab-hygiene-k8s";
  c.gitlab.sshHostname = "ssh-gitlab-hygiene-k8s";
  c.registry = { hostname: "registry-hygiene-k8s" };
  c.kubernetes.argocd.hostname = "argocd-hygiene-k8s";
  c.objectStorage.bucketPrefix = "hygiene-k8s-gitlab";
  c.backups.secretsBucket = "hygiene-k8s-restore-secrets";
  c.gitlab.smtp.password = tfVar("hygiene_k8s_smtp_password");
  c.gitlab.sso.clientSecret = tfVar("hygiene_k8s_oidc_client_secret");
  c.gitlab.externalDatabase = { host: "db.example.com", password: tfVar("hygiene_k8s_db_password") };
  c.gitlab.externalRedis = { host: "redis.example.com", password: tfVar("hygiene_k8s_redis_password") };
  c.objectStorage.credentials = { accessKeyId: tfVar("hygiene_k8s_s3_access_key_id"), secretAccessKey: tfVar("hygiene_k8s_s3_secret_access_key") };
  c.dns.apiToken = tfVar("hygiene_k8s_cloudflare_api_token");
  c.kubernetes.argocd.sso.clientSecret = tfVar("hygiene_k8s_argocd_client_secret");
  return c;
}

const EXTRA: Record<string, Config> = {
  "hygiene-aws": ownNames("hygiene-aws", awsWithEverySecret()),
  "hygiene-docker": ownNames("hygiene-docker", dockerWithEverySecret()),
  "hygiene-docker-mail": ownNames("hygiene-docker-mail", dockerWithMailLogin()),
  "hygiene-kubernetes": ownNames("hygiene-kubernetes", kubernetesWithEverySecret()),
};
const STACKS = ["homelab", "staging", "production", "k3s-homelab", "cluster", "hygiene-aws", "hygiene-docker", "hygiene-docker-mail", "hygiene-kubernetes"];
/** Each environment's second stack (what lives inside GitLab: the runners and their tokens). */
const CONTENT_STACKS = STACKS.map((name) => `${name}-gitlab`);

interface SecretRef {
  readonly path: string;
  readonly terraformVariable?: string;
  readonly secretsManagerArn?: string;
  readonly hostFile?: string;
  /** An existing Kubernetes Secret (kubernetes platform): named, never written. */
  readonly kubernetesSecret?: { readonly name: string; readonly key: string };
}

/** Every secret reference in a config object, wherever it is. */
function secretRefs(value: unknown, path: string[] = []): SecretRef[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretRefs(v, [...path, String(i)]));
  if (value === null || typeof value !== "object") return [];
  const o = value as Record<string, unknown>;
  if (typeof o.terraformVariable === "string") return [{ path: path.join("."), terraformVariable: o.terraformVariable }];
  if (typeof o.secretsManagerArn === "string") return [{ path: path.join("."), secretsManagerArn: o.secretsManagerArn }];
  if (typeof o.hostFile === "string") return [{ path: path.join("."), hostFile: o.hostFile }];
  if (o.kubernetesSecret && typeof o.kubernetesSecret === "object")
    return [{ path: path.join("."), kubernetesSecret: o.kubernetesSecret as SecretRef["kubernetesSecret"] }];
  return Object.entries(o).flatMap(([k, v]) => secretRefs(v, [...path, k]));
}

/** The paths of every secret-reference field in a platform's schema (through unions too). */
function schemaSecretPaths(schema: z.ZodType): string[] {
  const out: string[] = [];
  const walk = (node: any, path: string[]) => {
    if (node === null || typeof node !== "object") return;
    if (node.$ref) throw new Error(`unexpected $ref at ${path.join(".")}: inline it in the walk`);
    const props = (node.properties ?? {}) as Record<string, unknown>;
    if ("terraformVariable" in props || "secretsManagerArn" in props || "hostFile" in props) {
      out.push(path.join("."));
      return;
    }
    for (const [k, v] of Object.entries(props)) walk(v, [...path, k]);
    for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) walk(alt, path);
  };
  walk(z.toJSONSchema(schema, { io: "input" }), []);
  return [...new Set(out)].sort();
}

/** Every string in a JSON value (keys included), with where it is; `//` metadata is skipped. */
function stringsOf(value: unknown, path = "$"): { path: string; text: string }[] {
  if (typeof value === "string") return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value)
    .filter(([k]) => k !== "//")
    .flatMap(([k, v]) => [{ path: `${path}{key}`, text: k }, ...stringsOf(v, `${path}.${k}`)]);
}

/** Where `name` appears other than as a live `${… var.<name> …}` reference. */
function nonReferenceUses(text: string, name: string): number[] {
  const bad: number[] = [];
  for (const m of text.matchAll(new RegExp(`(?<![A-Za-z0-9_])${name}(?![A-Za-z0-9_])`, "g"))) {
    const before = text.slice(0, m.index);
    const open = before.lastIndexOf("${");
    const live = before.endsWith("var.") && open >= 0 && open > before.lastIndexOf("}") && before[open - 1] !== "$";
    if (!live) bad.push(m.index);
  }
  return bad;
}

const SECRET_MANAGER_ARN = /arn:aws[a-z-]*:secretsmanager:[^"\s,\\\]}]+/g;

let scratch: Scratch;
let run: AppRun;
let configs: Record<string, Config>;
let stacks: Record<string, any>;
let contentStacks: Record<string, any>;

beforeAll(() => {
  scratch = scratchWithExamples("secret-hygiene-");
  for (const [name, config] of Object.entries(EXTRA)) writeFileSync(join(scratch.configDir, `${name}.yaml`), stringify(config));
  configs = {
    homelab: exampleYaml("homelab"),
    staging: exampleYaml("staging"),
    production: exampleYaml("production"),
    "k3s-homelab": exampleYaml("k3s-homelab"),
    cluster: exampleYaml("cluster"),
    ...EXTRA,
  };
  run = runAppInProcess(scratch.configDir, scratch.outdir);
  if (run.status !== 0) throw new Error(`synth failed (exit ${run.status}):\n${run.stderr}${run.stdout}`);
  stacks = Object.fromEntries(
    Object.keys(configs).map((name) => [name, JSON.parse(readFileSync(join(scratch.outdir, "stacks", name, "cdk.tf.json"), "utf8"))]),
  );
  contentStacks = Object.fromEntries(
    CONTENT_STACKS.map((name) => [name, JSON.parse(readFileSync(join(scratch.outdir, "stacks", name, "cdk.tf.json"), "utf8"))]),
  );
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch.dir, { recursive: true, force: true });
});

describe("secret hygiene of cdktf.out", () => {
  it("the extra environments reference every kind of secret the schema supports", () => {
    const covered = (config: Config) =>
      secretRefs(config)
        .map((r) => r.path)
        .sort();
    expect(schemaSecretPaths(awsEnvironmentSchema)).toEqual(covered(EXTRA["hygiene-aws"]!));
    const dockerCovered = [...new Set([...covered(EXTRA["hygiene-docker"]!), ...covered(EXTRA["hygiene-docker-mail"]!)])].sort();
    expect(schemaSecretPaths(dockerEnvironmentSchema)).toEqual(dockerCovered);
    expect(schemaSecretPaths(kubernetesEnvironmentSchema)).toEqual(covered(EXTRA["hygiene-kubernetes"]!));
    // The production example names existing Secrets instead, for every field that may.
    expect(
      secretRefs(configs.cluster)
        .filter((r) => r.kubernetesSecret)
        .map((r) => r.path)
        .sort(),
    ).toEqual(["gitlab.externalDatabase.password", "gitlab.externalRedis.password", "gitlab.smtp.password"]);
  });

  it("synthesizes every example and every extra environment", () => {
    expect(run.stderr).toBe("");
    expect(Object.keys(stacks).sort()).toEqual([...STACKS].sort());
  });

  it("no file under cdktf.out (stacks, manifest) holds anything secret-looking", () => {
    const files = filesUnder(scratch.outdir);
    expect(files).toContain("manifest.json");
    for (const name of [...Object.keys(stacks), ...CONTENT_STACKS]) expect(files).toContain(join("stacks", name, "cdk.tf.json"));
    // Nothing is built on a Docker host, so no build context is copied into cdktf.out.
    expect(files.filter((f) => f.split(/[\\/]/).includes("assets"))).toEqual([]);
    const findings = scanTree(scratch.outdir);
    expect(findings, formatFindings(findings)).toEqual([]);
  });

  it.each(STACKS)("%s: the variables are exactly the config's Terraform-variable secrets, all sensitive", (name) => {
    const variables = (stacks[name].variable ?? {}) as Record<string, any>;
    const refs = secretRefs(configs[name]).flatMap((r) => (r.terraformVariable ? [r.terraformVariable] : []));
    expect(Object.keys(variables).sort()).toEqual([...new Set(refs)].sort());
    for (const [v, block] of Object.entries(variables)) {
      expect(block.sensitive, `variable ${v} must be sensitive`).toBe(true);
      expect(block.default, `variable ${v} must not carry a default value`).toBeUndefined();
    }
  });

  it.each(STACKS)("%s: no output exposes a secret unless it is sensitive", (name) => {
    const exposes = /\bvar\.|\.(?:env|upload|user_data|user_data_base64|secret_string|password|token)\b/;
    for (const [output, block] of Object.entries((stacks[name].output ?? {}) as Record<string, any>)) {
      if (exposes.test(JSON.stringify(block.value))) expect(block.sensitive, `output ${output}: ${JSON.stringify(block.value)}`).toBe(true);
    }
  });

  it.each(STACKS)("%s: a Terraform-variable secret appears only as a live ${var.<name>} reference, and is used", (name) => {
    const { variable: _variables, ...rest } = stacks[name];
    const strings = stringsOf(rest);
    for (const ref of secretRefs(configs[name])) {
      if (!ref.terraformVariable) continue;
      const misuse = strings.filter((s) => nonReferenceUses(s.text, ref.terraformVariable!).length > 0);
      expect(
        misuse.map((s) => `${s.path}: ${s.text.slice(0, 200)}`),
        `${ref.path} (${ref.terraformVariable})`,
      ).toEqual([]);
      const uses = strings.filter((s) => s.text.includes(`var.${ref.terraformVariable}`));
      expect(uses.length, `${ref.path}: var.${ref.terraformVariable} is never used`).toBeGreaterThan(0);
    }
  });

  it.each(STACKS)("%s: a host secret file appears only as read-only bind mounts of <dataRoot>/secrets/<file>, and is used", (name) => {
    const containers = Object.values((stacks[name].resource?.docker_container ?? {}) as Record<string, any>);
    const text = JSON.stringify(stacks[name].resource);
    const listed = (stacks[name].output?.host_secret_files?.value ?? []) as string[];
    for (const ref of secretRefs(configs[name])) {
      if (!ref.hostFile) continue;
      expect(listed, `${ref.path}: not in the host_secret_files output`).toContain(`/srv/gitlab/secrets/${ref.hostFile}`);
      const source = `/srv/gitlab/secrets/${ref.hostFile}`;
      const mounts = containers.flatMap((c) => (c.mounts ?? []).filter((m: any) => m.source === source));
      expect(mounts.length, `${ref.path}: ${source} is never mounted`).toBeGreaterThan(0);
      for (const m of mounts) expect(m, ref.path).toEqual({ type: "bind", source, target: `/run/secrets/${ref.hostFile}`, read_only: true });
      // Mentioned only as that mount and where the program is told to read it.
      expect(text.split(source).length - 1, `${ref.path}: ${source} outside its mounts`).toBe(mounts.length);
    }
  });

  it.each(STACKS)("%s: an existing Kubernetes Secret is only named where a chart reads it, and never written", (name) => {
    const written = Object.values((stacks[name].resource?.kubernetes_secret_v1 ?? {}) as Record<string, any>).map((s) => s.metadata.name);
    const values = Object.values((stacks[name].resource?.helm_release ?? {}) as Record<string, any>)
      .map((r) => r.values.join("\n"))
      .join("\n");
    for (const ref of secretRefs(configs[name])) {
      if (!ref.kubernetesSecret) continue;
      expect(written, `${ref.path}: ${ref.kubernetesSecret.name} must not be created here`).not.toContain(ref.kubernetesSecret.name);
      expect(values, `${ref.path} is not named in the chart's values`).toMatch(
        new RegExp(`secret: ${ref.kubernetesSecret.name}\\n\\s*key: ${ref.kubernetesSecret.key}\\n`),
      );
    }
  });

  it.each(STACKS)("%s: a Secrets Manager secret appears only as its exact ARN, and no secret value is read into Terraform", (name) => {
    const text = JSON.stringify(stacks[name]);
    const declared = new Set(secretRefs(configs[name]).flatMap((r) => (r.secretsManagerArn ? [r.secretsManagerArn] : [])));
    const mentioned = [...text.matchAll(SECRET_MANAGER_ARN)].map((m) => m[0]);
    for (const a of mentioned) expect(declared.has(a), `ARN in the stack that the config does not reference exactly: ${a}`).toBe(true);
    if (configs[name]!.platform === "aws") {
      // GitLab's own secrets reach the instance by ARN (fetched at boot), never through Terraform.
      for (const path of ["gitlab.smtp.password", "gitlab.sso.clientSecret", "gitlab.externalDatabase.password", "tls.certificate", "tls.privateKey"]) {
        const ref = secretRefs(configs[name]).find((r) => r.path === path);
        if (ref) expect(mentioned, `${path} is not fetched by ARN`).toContain(ref.secretsManagerArn);
      }
    }
    for (const kind of ["resource", "data"] as const) {
      const types = Object.keys(stacks[name][kind] ?? {});
      expect(
        types.filter((t) => /secretsmanager_secret_version|ssm_parameter/.test(t)),
        `${kind} reading a secret value into state`,
      ).toEqual([]);
    }
  });
});

describe("secret hygiene of the second stacks (<env>-gitlab)", () => {
  /** A reference to a value Terraform holds as sensitive: a runner's token, a secret's value. */
  const SECRET_VALUE = /\.token\}|secret_string|\.data\b|var\./;

  it.each(CONTENT_STACKS)("%s: no output carries a token or a secret's value, sensitive or not", (name) => {
    for (const [output, block] of Object.entries((contentStacks[name].output ?? {}) as Record<string, any>)) {
      expect(JSON.stringify(block.value), `output ${output}`).not.toMatch(SECRET_VALUE);
      expect(JSON.stringify(block.value), `output ${output}`).not.toContain("gitlab_user_runner");
    }
  });

  it.each(CONTENT_STACKS)("%s: a runner token is written only where its runner reads it, and no variable carries a secret", (name) => {
    const stack = contentStacks[name];
    expect(stack.variable ?? {}).toEqual({});
    const runners = Object.keys(stack.resource?.gitlab_user_runner ?? {}).map((r) => `\${gitlab_user_runner.${r}.token}`);
    const uses = stringsOf(stack.resource ?? {}).filter((s) => s.text.includes(".token}"));
    for (const use of uses) {
      expect(
        runners.some((r) => use.text === r),
        `${use.path}: a token reference must be the whole value`,
      ).toBe(true);
      expect(use.path, use.path).toMatch(
        /^\$\.(?:aws_secretsmanager_secret_version\.[^.]+\.secret_string|docker_container\.[^.]+\.upload\[\d+\]\.content|kubernetes_secret_v1\.[^.]+\.data\.runner-token)$/,
      );
    }
    // Every runner's token goes somewhere: one place each.
    expect(uses.map((u) => u.text).sort()).toEqual([...runners].sort());
    // The only secret values read into Terraform are the automation token the provider needs.
    for (const type of Object.keys(stack.data ?? {}).filter((t) => /secretsmanager_secret_version|kubernetes_secret/.test(t))) {
      expect(Object.keys(stack.data[type]), `${name}: data ${type}`).toEqual(["automation-token"]);
    }
  });

  it("aws with runners.token (the manual escape hatch): no runner is registered, no secret version written", () => {
    expect(contentStacks["hygiene-aws-gitlab"].resource?.gitlab_user_runner).toBeUndefined();
    expect(contentStacks["hygiene-aws-gitlab"].resource?.aws_secretsmanager_secret_version).toBeUndefined();
  });
});

describe("the secret scanner can fail", () => {
  let planted: string | undefined;
  afterAll(() => {
    if (planted) rmSync(planted, { recursive: true, force: true });
  });

  it("catches a GitLab token planted in a file and in a JSON string of a copy of the output", () => {
    planted = mkdtempSync(join(tmpdir(), "secret-scan-control-"));
    cpSync(scratch.outdir, planted, { recursive: true });
    expect(scanTree(planted)).toEqual([]);
    writeFileSync(join(planted, "stacks", "homelab", "notes.txt"), "runner token: glpat-0123456789abcdefghij\n");
    const stack = JSON.parse(readFileSync(join(planted, "stacks", "staging", "cdk.tf.json"), "utf8"));
    stack.output.web_url.description = 'debug: password = "hunter2-but-longer"';
    writeFileSync(join(planted, "stacks", "staging", "cdk.tf.json"), JSON.stringify(stack, null, 2));
    const findings = scanTree(planted);
    expect(findings.map((f) => `${f.where.split(" ")[0]} ${f.kind}`).sort()).toEqual(
      expect.arrayContaining([
        `${join("stacks", "homelab", "notes.txt")} GitLab token`,
        `${join("stacks", "staging", "cdk.tf.json")} literal secret assignment`,
      ]),
    );
    // A finding does not repeat the secret whole in test logs.
    expect(formatFindings(findings)).not.toContain("glpat-0123456789abcdefghij");
  });

  it("catches a runner token written literally into a second stack's upload or output", () => {
    const dir = mkdtempSync(join(tmpdir(), "secret-scan-content-"));
    try {
      cpSync(join(scratch.outdir, "stacks", "homelab-gitlab"), dir, { recursive: true });
      expect(scanTree(dir)).toEqual([]);
      const stack = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
      const container = Object.values(stack.resource.docker_container)[0] as { upload: { file: string; content: string }[] };
      container.upload.find((u) => u.file === "/etc/gitlab-runner/runner-token")!.content = "glrt-t1_AbCdEfGhIjKlMnOpQrSt";
      stack.output = { runner: { value: "glrt-t1_ZyXwVuTsRqPoNmLkJiHg" } };
      writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(stack, null, 2));
      const findings = scanTree(dir);
      expect(findings.filter((f) => f.kind === "GitLab token").map((f) => f.where)).toEqual(
        expect.arrayContaining([expect.stringMatching(/upload\[\d+\]\.content$/), expect.stringMatching(/\.output\.runner\.value$/)]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("catches a password written into a Helm release's values of a kubernetes stack, where a Secret's name belongs", () => {
    const dir = mkdtempSync(join(tmpdir(), "secret-scan-helm-"));
    try {
      cpSync(join(scratch.outdir, "stacks", "k3s-homelab"), dir, { recursive: true });
      expect(scanTree(dir)).toEqual([]);
      const stack = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
      const release = Object.values(stack.resource.helm_release).find((r: any) => r.chart === "gitlab") as { values: string[] };
      release.values[0] = release.values[0]!.replace(
        "    password:\n      secret: gitlab-smtp-password\n      key: password\n",
        "    password: hunter2-but-longer\n",
      );
      expect(release.values[0]).toContain("hunter2-but-longer");
      writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(stack, null, 2));
      expect(scanTree(dir).map((f) => f.kind)).toContain("literal secret in YAML");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("catches a YAML-style secret inside gzipped EC2 user data, where only the decoded lines show it", () => {
    const dir = mkdtempSync(join(tmpdir(), "secret-scan-userdata-"));
    try {
      cpSync(join(scratch.outdir, "stacks", "staging"), dir, { recursive: true });
      const stack = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
      const instance = Object.values(stack.resource.aws_instance)[0] as { user_data_base64: string };
      const plantedLine = String.raw`#cloud-config\nsmtp_password: hunter2-but-longer\n`;
      instance.user_data_base64 = instance.user_data_base64.replace(String.raw`#cloud-config\n`, plantedLine);
      expect(instance.user_data_base64).toContain("hunter2-but-longer");
      writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(stack, null, 2));
      const findings = scanTree(dir);
      expect(findings.map((f) => f.kind)).toContain("literal secret in YAML");
      expect(findings.some((f) => f.where.endsWith("(decoded)"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the reference check flags a variable name used outside a live ${var.…} reference", () => {
    expect(nonReferenceUses("GITLAB_SMTP_PASSWORD=${var.smtp_password}", "smtp_password")).toEqual([]);
    expect(nonReferenceUses('${join(",", [var.smtp_password])}', "smtp_password")).toEqual([]);
    expect(nonReferenceUses("password file: smtp_password", "smtp_password")).toHaveLength(1);
    expect(nonReferenceUses("var.smtp_password outside an expression", "smtp_password")).toHaveLength(1);
    expect(nonReferenceUses("literal $${var.smtp_password}", "smtp_password")).toHaveLength(1);
  });

  const leaks: [string, string][] = [
    ["GitLab runner token", "RUNNER_TOKEN=glrt-AbCdEfGhIjKlMnOpQrSt"],
    ["GitLab personal access token", "glpat-0123456789abcdefghij"],
    ["GitLab deploy token", "gldt-0123456789abcdefghij"],
    ["GitLab pipeline trigger token", "glptt-0123456789abcdef0123456789abcdef01234567"],
    ["runner registration token", "GR1348941AbCdEfGhIjKlMnOpQrSt"],
    ["AWS access key id", "AKIAIOSFODNN7EXAMPLE"],
    ["AWS session key id", "ASIAIOSFODNN7EXAMPLE"],
    ["AWS secret access key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----"],
    ["RSA private key", "-----BEGIN RSA PRIVATE KEY-----"],
    ["Ruby literal password", "gitlab_rails['smtp_password'] = 'hunter2'"],
    ["HCL literal password", 'password = "hunter2"'],
    ["JSON literal password", '{"password": "hunter2"}'],
    ["escaped JSON inside JSON", '"content": "{\\"client_secret\\": \\"s3cr3t-value\\"}"'],
    ["YAML literal password", "smtp:\n  password: hunter2\n"],
    ["environment variable", '"GF_SECURITY_ADMIN_PASSWORD=admin123"'],
    ["Slack webhook", "url: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"],
    ["Discord webhook", "https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOp-QrStUvWxYz"],
    ["bearer token", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"],
    ["credentials in a URL", "postgres://gitlab:hunter2@db.example.com:5432/gitlab"],
    ["base64-encoded user data", Buffer.from("#!/bin/sh\nexport DB_PASSWORD=hunter2\necho done and then some more text\n").toString("base64")],
  ];
  it.each(leaks)("catches %s", (_what, text) => {
    expect(scanText(text).length).toBeGreaterThan(0);
  });

  const references: [string, string][] = [
    ["a Terraform variable", '"GITLAB_SMTP_PASSWORD=${var.gitlab_smtp_password}"'],
    ["a provider token from a variable", '"api_token": "${var.cloudflare_api_token}"'],
    ["ENV.fetch in gitlab.rb", "gitlab_rails['smtp_password'] = ENV.fetch('GITLAB_SMTP_PASSWORD')"],
    ["File.read in gitlab.rb", "gitlab_rails['db_password'] = File.read('/etc/gitlab/secrets.d/db_password').strip"],
    ["a template placeholder", 'token = "@@RUNNER_TOKEN@@"'],
    ["a shell variable", 'Authorization: Bearer $TOKEN\nRUNNER_TOKEN="$1"'],
    ["a Secrets Manager ARN", "smtp_password arn:aws:secretsmanager:eu-west-3:111111111111:secret:staging/gitlab/smtp-password-AbCdEf"],
    ["a file path", "url_file: /etc/alertmanager/secrets/webhook-url"],
  ];
  it.each(references)("does not flag %s", (_what, text) => {
    expect(formatFindings(scanText(text))).toBe("");
  });
});
