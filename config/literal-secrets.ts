// Finds secrets pasted into config as literals. Config holds references only; a literal
// token here would end up in Git, in cdktf.out and in every CI log.

interface SecretPattern {
  readonly what: string;
  readonly test: (value: string) => boolean;
}

const PATTERNS: readonly SecretPattern[] = [
  { what: "a GitLab runner authentication token", test: (v) => /^glrt-/.test(v) },
  { what: "a GitLab runner registration token", test: (v) => /^GR1348941/.test(v) },
  {
    what: "a GitLab access token",
    test: (v) => /^(glpat|gldt|glptt|glft|glimt|glagent|glcbt|glsoat|gloas|glffct|glwt)-/.test(v),
  },
  { what: "an AWS access key id", test: (v) => /^(AKIA|ASIA)[A-Z0-9]{16}$/.test(v) },
  { what: "a private key", test: (v) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v) },
];

/** Field names whose value is a secret; a plain string there is always a pasted literal. */
const SECRET_FIELD = /(password|passwd|secret|token|apikey|api_key|privatekey|private_key)$/i;

export interface LiteralSecret {
  readonly path: readonly (string | number)[];
  readonly what: string;
}

export function findLiteralSecrets(value: unknown, path: (string | number)[] = []): LiteralSecret[] {
  if (typeof value === "string") {
    const hit = PATTERNS.find((p) => p.test(value));
    if (hit) return [{ path, what: hit.what }];
    const field = path[path.length - 1];
    if (typeof field === "string" && SECRET_FIELD.test(field) && value.length > 0) {
      return [{ path, what: `a literal value for the secret field '${field}'` }];
    }
    return [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findLiteralSecrets(v, [...path, i]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => findLiteralSecrets(v, [...path, k]));
  }
  return [];
}

export function howToReference(platform: unknown): string {
  const aws = "store it in AWS Secrets Manager and write { secretsManagerArn: arn:aws:secretsmanager:<region>:<account>:secret:<name> }";
  const docker =
    "write it to a root-only file under <docker.dataRoot>/secrets/ on the Docker host and write { hostFile: <file name> } (the Cloudflare token Terraform uses, dns.apiToken, is a sensitive Terraform variable: { terraformVariable: <name> })";
  if (platform === "aws") return `${aws} (the Cloudflare token is a Terraform variable on every platform)`;
  if (platform === "docker") return docker;
  const kubernetes = `${docker}, or name an existing Secret with { kubernetesSecret: { name: <secret>, key: <key> } }`;
  if (platform === "kubernetes") return kubernetes;
  return `on aws: ${aws}; on docker: ${docker}; on kubernetes: ${kubernetes}`;
}
