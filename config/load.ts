// Reads config/<env>.yaml files into typed, defaulted environments, or fails with every
// problem of every file at once. Nothing here throws anything but ConfigError for bad input.
import { closeSync, openSync, readSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { LineCounter, isCollection, isMap, isScalar, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { migrateDeprecated, type DeprecationNotice } from "./deprecations";
import { crossEnvironmentProblems, foreignSuppressions, type LoadedEnvironment } from "./cross-environment";
import { ConfigDirectoryError, ConfigError, formatProblem, joinPath, type ConfigProblem } from "./errors";
import { didYouMean, keysAt } from "./schema-keys";
import { at } from "./schema/cross-checks";
import { describeYamlStructureError, STRUCTURE_ERRORS } from "./yaml-structure";
import { findLiteralSecrets, howToReference } from "./literal-secrets";
import { SCALING_COUNTERPARTS, SCALING_ONLY_KEYS } from "./schema/aws-runners";
import { environmentSchema, platformOnlySections, type EnvironmentConfig } from "./schema/index";

/** A validated environment: its config with defaults applied, and where it came from. */
export type Environment = EnvironmentConfig & {
  /** Environment name: the file name without `.yaml`; also the stack name. */
  readonly name: string;
  /** The file it was read from, as given (relative paths stay relative). */
  readonly sourceFile: string;
};

/** Larger files are refused before parsing: a real environment is a few KB. */
export const MAX_CONFIG_BYTES = 256 * 1024;
const ENV_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** Line and column of a field, or of its closest ancestor written in the file. */
export type Locate = (path: readonly PropertyKey[]) => { line?: number; column?: number };

type Result = { environment: Environment; problems: []; locate: Locate; notices: ConfigProblem[] } | { environment: undefined; problems: ConfigProblem[] };

const fail = (problems: ConfigProblem[]): Result => ({ environment: undefined, problems });
const wholeFile = (file: string, message: string, extra: Partial<ConfigProblem> = {}): ConfigProblem => ({ file, path: "", message, ...extra });

export function parseEnvironment(file: string, bytes: Uint8Array): Result {
  const name = basename(file).replace(/\.ya?ml$/, "");
  const text = environmentText(file, name, bytes);
  if (typeof text !== "string") return fail(text);
  const yaml = readYaml(file, text);
  if (!("raw" in yaml)) return fail(yaml);
  return validate(file, name, yaml);
}

/** The file's text, or why it cannot be an environment file (name, size, encoding, emptiness, nesting). */
function environmentText(file: string, name: string, bytes: Uint8Array): string | ConfigProblem[] {
  if (!ENV_NAME.test(name)) {
    return [wholeFile(file, `the file name '${name}' must be a lower-case environment name (letters, digits, '-'; at most 31) — it becomes the stack name`)];
  }
  if (name.endsWith("-gitlab")) {
    const base = name.slice(0, -"-gitlab".length);
    return [
      wholeFile(
        file,
        `the file name '${name}' must not end in '-gitlab': every environment's second stack is named <env>-gitlab (${name} is the second stack of an environment '${base}'): rename it`,
      ),
    ];
  }
  if (bytes.byteLength > MAX_CONFIG_BYTES) return [wholeFile(file, `file is larger than ${MAX_CONFIG_BYTES} bytes, the most an environment file may be`)];
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return [wholeFile(file, "file is not valid UTF-8; save it as UTF-8")];
  }
  if (text.trim() === "" || text.split("\n").every((l) => /^\s*(#.*)?$/.test(l))) {
    return [wholeFile(file, "file is empty; start from one of the examples in config/")];
  }
  const depth = nestingDepth(text);
  if (depth > MAX_NESTING) return [wholeFile(file, `nesting is ${depth} levels deep; an environment file needs fewer than ${MAX_NESTING}`)];
  return text;
}

interface ParsedYaml {
  readonly doc: Document;
  readonly at: (offset: number) => { line: number; column: number };
  readonly raw: Record<string, unknown>;
  /** Duplicate keys: reported with the file's other problems (the last value is read meanwhile). */
  readonly problems: ConfigProblem[];
}

/** The YAML document and its plain value, or its syntax problems. */
function readYaml(file: string, text: string): ParsedYaml | ConfigProblem[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true, version: "1.2" });
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  // A misplaced indentation cascades into errors on every line after it: the first one, said
  // in terms of the field it broke, is the one to fix.
  const structure = doc.errors[0];
  if (structure && STRUCTURE_ERRORS.has(structure.code)) {
    const described = describeYamlStructureError(text, lines.linePos(structure.pos[0]).line, structure.code);
    if (described) return [{ file, ...described }];
  }
  const problems = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    // Only a duplicate key has a meaningful field path; other syntax errors have a position.
    path: e.code === "DUPLICATE_KEY" ? pathOfOffset(doc, e.pos[0]) : "",
    message: `YAML: ${e.code === "MULTIPLE_DOCS" ? "a file holds one environment: remove the second document (the extra '---')" : firstLine(e.message)}`,
    ...at(e.pos[0]),
  }));
  // A duplicate key still leaves a readable document (the last value wins): go on, so the
  // file's other problems are reported in the same run. Any other syntax error stops here.
  if (doc.errors.some((e) => e.code !== "DUPLICATE_KEY") || doc.warnings.length > 0) return atMost(problems);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return [wholeFile(file, `YAML: ${firstLine((e as Error).message)}`)];
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return [wholeFile(file, "must be a YAML mapping of settings (platform:, domain:, gitlab:, …)")];
  }
  return { doc, at, raw: raw as Record<string, unknown>, problems };
}

/** The environment with its defaults, or every problem: pasted secrets, schema issues, deprecated keys set twice. */
function validate(file: string, name: string, yaml: ParsedYaml): Result {
  const locate = (path: readonly PropertyKey[], atKey = false) => locateInDocument(yaml.doc, path, yaml.at, atKey);
  const problems: ConfigProblem[] = [...yaml.problems];
  const platform = yaml.raw.platform;
  const secrets = findLiteralSecrets(yaml.raw);
  for (const s of secrets) {
    const message = `looks like ${s.what} pasted into config; secrets are never written in config — ${howToReference(platform)}`;
    problems.push({ file, path: joinPath(s.path), message, ...locate(s.path) });
  }
  const secretPaths = secrets.map((s) => joinPath(s.path));
  const { config, notices, conflicts, asWritten } = migrateDeprecated(yaml.raw);
  const located = (n: DeprecationNotice): ConfigProblem => ({ file, path: joinPath(n.path), message: n.message, ...locate(n.path, true) });
  problems.push(...conflicts.map(located));

  const parsed = environmentSchema.safeParse(config, { reportInput: true });
  if (parsed.success && problems.length === 0) {
    return { environment: { ...parsed.data, name, sourceFile: file }, problems: [], locate: (path) => locate(path), notices: notices.map(located) };
  }
  for (const issue of parsed.error?.issues ?? []) {
    for (const described of describeIssue(issue, platform, config)) {
      const p = { ...described, path: asWritten(described.path) };
      const path = joinPath(p.path);
      if (secretPaths.some((s) => path === s || path.startsWith(`${s}.`))) continue;
      problems.push({ file, path, message: p.message, ...locate(p.path, p.atKey) });
    }
  }
  return fail(atMost(problems));
}

/** More than this many problems in one file are summarized: one broken line can cascade. */
const MAX_PROBLEMS_PER_FILE = 30;
/** Deeper nesting is refused before parsing: the YAML parser recurses per level. */
const MAX_NESTING = 64;

function atMost(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    return !seen.has(key) && seen.add(key);
  });
  if (unique.length <= MAX_PROBLEMS_PER_FILE) return unique;
  const rest = unique.length - MAX_PROBLEMS_PER_FILE;
  return [
    ...unique.slice(0, MAX_PROBLEMS_PER_FILE),
    { file: unique[0]!.file, path: "", message: `… and ${rest} more problem(s); fix the first ones and run again` },
  ];
}

/**
 * The deepest nesting of flow collections ([ and {) or block indentation levels, ignoring
 * quoted strings and comments: a cheap bound that keeps hostile input from overflowing
 * the parser's stack.
 */
export function nestingDepth(text: string): number {
  let deepest = 0;
  let flow = 0;
  for (const line of text.split("\n")) {
    const indent = /^ */.exec(line)![0].length;
    deepest = Math.max(deepest, Math.floor(indent / 2));
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (c === "\\" && quote === '"') i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) break;
      else if (c === "[" || c === "{") deepest = Math.max(deepest, ++flow);
      else if (c === "]" || c === "}") flow = Math.max(0, flow - 1);
    }
  }
  return deepest;
}

/** Turns one zod issue into user-facing problems (unknown keys become one problem per key). */
function describeIssue(issue: z.core.$ZodIssue, platform: unknown, raw: unknown): { path: PropertyKey[]; message: string; atKey?: boolean }[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const only = issue.path.length === 0 ? platformOnlySections[key] : undefined;
      const scaling = platform === "aws" && joinPath(issue.path) === "runners" ? SCALING_ONLY_KEYS[key] : undefined;
      const suggestion = only || scaling ? undefined : didYouMean(key, keysAt(environmentSchema, raw, issue.path));
      const message = only
        ? `only valid when platform is '${only}' (this environment's platform is '${String(platform)}')`
        : scaling
          ? `only valid with runners.scaling: ${scaling} (this environment's is '${String(at(raw, "runners", "scaling") ?? "cpu")}'${SCALING_COUNTERPARTS[key] ? `; its counterpart there is ${SCALING_COUNTERPARTS[key]}` : ""})`
          : suggestion
            ? `unknown key; did you mean '${suggestion}'?`
            : "unknown key; check its spelling against config/environment.schema.json";
      return { path: [...issue.path, key], message, atKey: true };
    });
  }
  if (issue.code === "invalid_union" && issue.path.length === 1 && issue.path[0] === "platform") {
    return [{ path: issue.path, message: "must be 'aws', 'docker' or 'kubernetes'" }];
  }
  return [{ path: issue.path, message: humanize(issue) }];
}

function humanize(issue: z.core.$ZodIssue): string {
  // A schema may explain how to fill in a required field (its message starts "is required").
  if (issue.code === "invalid_type" && issue.input === undefined)
    return issue.message.startsWith("is required") ? issue.message : `is required (${issue.expected})`;
  if (issue.code === "invalid_type") return `must be ${issue.expected}, got ${describeValue(issue.input)}`;
  if ((issue.code === "too_small" || issue.code === "too_big") && issue.origin === "number") return numberBound(issue);
  if (issue.code === "invalid_value") return `must be one of ${issue.values.map((v) => `'${String(v)}'`).join(", ")}`;
  return issue.message;
}

/** "must be at least 2, got 1"; an exclusive bound "must be above 0"; a schema's own message in parentheses is kept as a hint. */
function numberBound(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === "too_small";
  const bound = small ? (issue as z.core.$ZodIssueTooSmall).minimum : (issue as z.core.$ZodIssueTooBig).maximum;
  const relation = issue.inclusive === false ? (small ? "above" : "below") : small ? "at least" : "at most";
  const hint = issue.message.startsWith("(") ? ` ${issue.message}` : "";
  return `must be ${relation} ${String(bound)}${hint}${issue.input !== undefined ? `, got ${String(issue.input)}` : ""}`;
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the string '${v.length > 40 ? `${v.slice(0, 37)}...` : v}'`;
  return `${typeof v} ${String(v)}`;
}

function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

/** The deepest existing node on `path`, as a line/column; with `atKey`, the entry's key (for unknown keys). */
function locateInDocument(doc: Document, path: readonly PropertyKey[], at: (o: number) => { line: number; column: number }, atKey = false) {
  const parent = atKey && path.length > 0 ? doc.getIn(path.slice(0, -1) as unknown[], true) : undefined;
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
    const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (keyRange) return at(keyRange[0]);
  }
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return at(node.range[0]);
  }
  return {};
}

/** The dotted path of the mapping key closest before `offset`, for YAML errors such as duplicate keys. */
function pathOfOffset(doc: Document, offset: number): string {
  let best = "";
  const walk = (node: unknown, path: string[]) => {
    if (!isCollection(node)) return;
    for (const item of node.items as { key?: { range?: number[]; toString(): string }; value?: unknown }[]) {
      const key = item.key;
      if (key?.range && key.range[0]! <= offset) {
        const childPath = [...path, String(key)];
        best = childPath.join(".");
        walk(item.value, childPath);
      } else if (!key && isCollection(item)) {
        walk(item, path);
      }
    }
  };
  walk(doc.contents, []);
  return best;
}

/** Reads at most one byte more than the limit, so a huge file is refused without loading it. */
function readBounded(file: string): Uint8Array {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export function loadEnvironmentFile(file: string): Environment {
  const result = parseEnvironment(file, readBounded(file));
  if (result.environment === undefined) throw new ConfigError(result.problems);
  return result.environment;
}

/**
 * Loads every `*.yaml` in `dir` (or just the named ones) and reports the problems of all
 * files together. Every file of the directory is read, selected or not: environments must not
 * collide with any other (config/cross-environment.ts); only the selected ones' problems
 * are reported. Deprecation notices of the selected files go to `notice`, one line each
 * (the commands print them as warnings; a library caller decides for itself).
 */
export function loadEnvironments(dir: string, only?: readonly string[], notice: (line: string) => void = () => {}): Environment[] {
  let all: string[];
  try {
    all = readdirSync(dir).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ConfigDirectoryError(dir, code === "ENOENT" ? "no such directory" : "not a directory");
    throw error;
  }
  const files = all.filter((f) => f.endsWith(".yaml"));
  const names = new Map(files.map((f) => [f.replace(/\.yaml$/, ""), f]));
  const shown = (f: string) => relative(process.cwd(), join(dir, f)) || f;
  // The pipeline plans config/<env>.yaml: a .yml file would be synthesized but never planned.
  const problems: ConfigProblem[] = all
    .filter((f) => f.endsWith(".yml"))
    .map((f) => ({ file: shown(f), path: "", message: "environment files end in .yaml (the pipeline plans and applies config/<env>.yaml): rename it" }));
  for (const wanted of only ?? []) {
    if (!names.has(wanted)) {
      problems.push({ file: shown(`${wanted}.yaml`), path: "", message: `no such environment; known: ${[...names.keys()].join(", ") || "none"}` });
    }
  }
  const selected = only ? new Set(only) : undefined;
  const loaded: LoadedEnvironment[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const stat = statSync(path);
    if (!stat.isFile()) continue;
    const result = parseEnvironment(shown(f), readBounded(path));
    const isSelected = !selected || selected.has(f.replace(/\.yaml$/, ""));
    if (result.environment) loaded.push({ environment: result.environment, locate: result.locate, mtimeMs: stat.mtimeMs });
    if (result.environment && isSelected) for (const n of result.notices) notice(formatProblem(n));
    else if (isSelected) problems.push(...result.problems);
  }
  problems.push(...crossEnvironmentProblems(loaded, selected), ...foreignSuppressions(loaded, selected));
  if (problems.length > 0) throw new ConfigError(problems);
  const environments = loaded.map((l) => l.environment).filter((e) => !selected || selected.has(e.name));
  if (environments.length === 0) throw new ConfigError([{ file: dir, path: "", message: "no environment files (*.yaml) found" }]);
  return environments;
}
