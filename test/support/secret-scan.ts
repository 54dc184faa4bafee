// Looks for anything secret-shaped in generated files: tokens, keys, literal passwords,
// webhook URLs. `scanText` is pure; `scanTree` reads every file under a directory and also
// scans the decoded string values of JSON files (so an escaped `\"password\": \"x\"` inside a
// rendered file counts) and text hidden in base64.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeUserData } from "../../scripts/verify/extract";
import { filesUnder } from "./files";

export interface SecretFinding {
  /** File (relative to the scanned root), plus the JSON path of the string when it came from one. */
  readonly where: string;
  /** 1-based line in the scanned text. */
  readonly line: number;
  readonly kind: string;
  /** The match, shortened so a real secret is not copied whole into test logs. */
  readonly excerpt: string;
}

const GITLAB_PREFIXES = "glrt|glpat|gldt|glptt|glft|glimt|glagent|glcbt|glsoat|gloas|glffct|glwt";
const SECRET_KEY = "[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api_?key|private_?key|access_?key)";

/** A value that is a reference or a placeholder, not a secret: ${var.x}, $VAR, $1, $(cmd), @@VAR@@, <name>, empty, a boolean. */
const REFERENCE_LIKE = /^(?:\$\{.*\}|\$\$?[{(]?[A-Za-z0-9_@*#?!].*|@@[A-Z0-9_]+@@|<[^>]*>|\s*|true|false)$/;

/**
 * A Helm chart's way of naming a Kubernetes Secret: `secret: <name>` with `key: <key>` on the
 * line just before or after, at the same level (`- secret: x` / `  key: y` in a list). The
 * value is the Secret's name, not a secret.
 */
function isSecretKeyPair(text: string, index: number): boolean {
  const start = text.lastIndexOf("\n", index) + 1;
  const end = text.indexOf("\n", index);
  const line = text.slice(start, end === -1 ? undefined : end);
  const m = /^([ \t]*)(- )?secret:[ \t]+([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(line);
  if (!m) return false;
  const indent = `${m[1]}${m[2] ? "  " : ""}`;
  const previous = text.slice(text.lastIndexOf("\n", start - 2) + 1, Math.max(start - 1, 0));
  const next = end === -1 ? "" : text.slice(end + 1, text.indexOf("\n", end + 1) === -1 ? undefined : text.indexOf("\n", end + 1));
  const keyLine = (l: string) => new RegExp(`^(${indent}|${m[1]}- )key:[ \\t]+\\S+$`).test(l);
  return keyLine(next) || (!m[2] && keyLine(previous));
}

interface Rule {
  readonly kind: string;
  readonly re: RegExp;
  /** Return false to drop a match (e.g. the value is a reference). */
  readonly keep?: (m: RegExpExecArray, secretNames: ReadonlySet<string>) => boolean;
}

const RULES: readonly Rule[] = [
  { kind: "GitLab token", re: new RegExp(String.raw`\b(?:${GITLAB_PREFIXES})-[A-Za-z0-9_-]{8,}`, "g") },
  { kind: "GitLab runner registration token", re: /\bGR1348941[A-Za-z0-9_-]{8,}/g },
  { kind: "AWS access key id", re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  {
    kind: "AWS secret access key",
    re: /aws_secret_access_key["'\]]*\s*(?:=>|=|:)\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
  },
  { kind: "private key", re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g },
  { kind: "Slack webhook URL", re: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{8,}/g },
  { kind: "Discord webhook URL", re: /https:\/\/(?:[a-z]+\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+/g },
  { kind: "bearer token", re: /\bBearer\s+(?![$@<{])[A-Za-z0-9._~+/-]{16,}=*/g },
  { kind: "credentials in a URL", re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]+:(?![$@<{])[^\s:/@"'\\]+@[A-Za-z0-9.-]+/g },
  {
    // password = "x", 'secret' => 'x', ['token'] = "x", "apiKey": "x"
    kind: "literal secret assignment",
    re: new RegExp(String.raw`(?<![A-Za-z0-9])(${SECRET_KEY})\\?["'\]]*\s*(?:=>|=|:)[ \t]*(\\?["'])((?:(?!\2).){1,200}?)\2`, "gi"),
    keep: (m) => !REFERENCE_LIKE.test(m[3] ?? ""),
  },
  {
    // password: x (a YAML block mapping entry with a plain scalar)
    kind: "literal secret in YAML",
    re: new RegExp(String.raw`^[ \t]*-?[ \t]*(${SECRET_KEY}):[ \t]+(?![|>"'&*!#])([^\s][^\n]*)$`, "gim"),
    // A Secret's name where the chart wants one (runners.secret), or a { secret, key } pair, names a Secret.
    keep: (m, secretNames) =>
      !REFERENCE_LIKE.test(m[2] ?? "") && !isSecretKeyPair(m.input, m.index) && !(/secret$/i.test(m[1] ?? "") && secretNames.has((m[2] ?? "").trim())),
  },
  {
    // SMTP_PASSWORD=x in an environment list, a shell script or an env file
    kind: "literal secret in an environment variable",
    re: /(?<![A-Za-z0-9])([A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY))=(?:\\?["'])?([^\s"'\\,;)]+)/g,
    keep: (m) => !REFERENCE_LIKE.test(m[2] ?? ""),
  },
];

function excerpt(s: string): string {
  const flat = s.replace(/\s+/g, " ");
  return flat.length > 24 ? `${flat.slice(0, 20)}…(${flat.length} chars)` : flat;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** Decodes long base64 runs that turn out to be text, so encoded user data is scanned too. */
function base64Texts(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[A-Za-z0-9+/]{40,}={0,2}/g)) {
    const decoded = Buffer.from(m[0], "base64").toString("utf8");
    const printable = decoded.replace(/[^\t\n\r\x20-\x7e]/g, "").length;
    if (decoded.length > 0 && printable / decoded.length > 0.95) out.push(decoded);
  }
  return out;
}

/**
 * Every secret-looking thing in `text`. Pure. `secretNames` are the Kubernetes Secrets the
 * scanned stack writes: a `secret: <one of them>` is a reference to it.
 */
export function scanText(text: string, where = "<text>", secretNames: ReadonlySet<string> = new Set()): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const rule of RULES) {
    rule.re.lastIndex = 0;
    for (let m = rule.re.exec(text); m !== null; m = rule.re.exec(text)) {
      if (rule.keep && !rule.keep(m, secretNames)) continue;
      findings.push({ where, line: lineOf(text, m.index), kind: rule.kind, excerpt: excerpt(m[0]) });
    }
  }
  for (const decoded of base64Texts(text)) {
    findings.push(...scanText(decoded, `${where} (base64-decoded)`, secretNames));
  }
  return findings;
}

function jsonStrings(value: unknown, path: string, out: { path: string; text: string }[]): void {
  if (typeof value === "string") out.push({ path, text: value });
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) jsonStrings(v, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push({ path: `${path}{key}`, text: k });
      jsonStrings(v, `${path}.${k}`, out);
    }
  }
}

/** The names of the Kubernetes Secrets a synthesized stack writes (kubernetes_secret[_v1]). */
function kubernetesSecretNames(stack: unknown): Set<string> {
  const resources = (stack as { resource?: Record<string, Record<string, { metadata?: { name?: unknown } }>> })?.resource ?? {};
  const names = [...Object.values(resources.kubernetes_secret_v1 ?? {}), ...Object.values(resources.kubernetes_secret ?? {})].map((s) => s.metadata?.name);
  return new Set(names.filter((n): n is string => typeof n === "string"));
}

/** Scans every file under `root` (and each string of every JSON file, EC2 user data decoded). */
export function scanTree(root: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const file of filesUnder(root)) {
    const text = readFileSync(join(root, file), "utf8");
    findings.push(...scanText(text, file));
    if (file.endsWith(".json")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue;
      }
      const strings: { path: string; text: string }[] = [];
      jsonStrings(parsed, "$", strings);
      const secretNames = kubernetesSecretNames(parsed);
      for (const s of strings) {
        findings.push(...scanText(s.text, `${file} ${s.path}`, secretNames));
        // EC2 user data is a base64gzip(join(…)) expression: its lines only exist decoded.
        if (/\.user_data(?:_base64)?$/.test(s.path)) {
          const decoded = decodeUserData(s.text, true);
          if ("text" in decoded) findings.push(...scanText(decoded.text, `${file} ${s.path} (decoded)`));
        }
      }
    }
  }
  return findings;
}

export function formatFindings(findings: readonly SecretFinding[]): string {
  return findings.map((f) => `${f.where}:${f.line}: ${f.kind}: ${f.excerpt}`).join("\n");
}
