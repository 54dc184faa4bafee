// One function per validator. Each takes the file's text and a label (its path on the target,
// used in messages instead of our scratch path) and resolves to a CheckResult; none throws for
// a bad file. Validators only read files, so each check writes a scratch copy first.
import { posix } from "node:path";
import { TomlError, parse as parseToml } from "smol-toml";
import { isRunnerConfig, runnerConfigKeyProblems } from "./runner-config-keys";
import { isMap, isScalar, parse as parseYaml, parseDocument, stringify } from "yaml";
import { CLOUD_CONFIG_KEYS } from "./cloud-config-keys";
import { inScratch, missing, ok, relabel, verdict, withTool, writeScratch, type CheckResult } from "./result";
import { stackTemplateProblems } from "./terraform";
import { findTool, goToolEnv, outputLines, run } from "./tools";

export { checkCalendar, checkSystemdUnits } from "./systemd";

/** A scratch file name that keeps the label's basename, so tool messages stay readable. */
function scratchName(label: string, suffix = ""): string {
  const base = posix.basename(label).replace(/[^\w.-]/g, "_") || "file";
  return base.endsWith(suffix) ? base : `${base}${suffix}`;
}

/** The checks cloud-init itself skips: first line and misspelled top-level keys. */
export function cloudConfigShapeProblems(content: string): string[] {
  const problems: string[] = [];
  const first = content.split("\n", 1)[0];
  if (first !== "#cloud-config") problems.push(`first line must be exactly "#cloud-config", found ${JSON.stringify(first)}`);
  const doc = parseDocument(content);
  if (doc.errors.length) return [...problems, ...doc.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`)];
  if (!isMap(doc.contents)) return [...problems, "the document must be a YAML mapping of cloud-init module keys"];
  for (const item of doc.contents.items) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (!CLOUD_CONFIG_KEYS.has(key)) problems.push(`unknown top-level key "${key}" (cloud-init would ignore it; see scripts/verify/cloud-config-keys.ts)`);
  }
  return problems;
}

export async function checkCloudConfig(content: string, label = "user_data"): Promise<CheckResult> {
  const shape = cloudConfigShapeProblems(content);
  const schema = await withTool("cloud-init", (bin) =>
    inScratch(async (dir) => {
      const file = writeScratch(dir, scratchName(label, ".yaml"), content);
      const r = await run(bin, ["schema", "-c", file]);
      const lines = relabel(outputLines(r.stdout, r.stderr), file, label);
      const notes = lines.filter((l) => /deprecat/i.test(l));
      return r.code === 0
        ? ok("cloud-init schema", notes)
        : verdict(
            "cloud-init schema",
            lines.filter((l) => !/^Valid cloud-config/.test(l)),
          );
    }),
  );
  if (schema.status === "skipped") return shape.length ? verdict("cloud-config keys", shape) : schema;
  return verdict("cloud-init schema + keys", [...shape, ...schema.findings], schema.notes);
}

/** shellcheck at warning level; scripts without a shebang are checked as bash. */
export function checkShell(content: string, label = "script.sh"): Promise<CheckResult> {
  return withTool("shellcheck", (bin) =>
    inScratch(async (dir) => {
      const file = writeScratch(dir, scratchName(label, ".sh"), content);
      return shellcheck(bin, file, content.startsWith("#!"), label);
    }),
  );
}

/** A Terraform reference left in a value, e.g. ${aws_ebs_volume.data.id}; Terraform fills it in at apply. */
const TERRAFORM_REFERENCE = /\$\{[a-z][a-z0-9_]*\.[A-Za-z0-9_.-]+\}/g;

/**
 * A KEY=value file a script sources: bash syntax, but its assignments are used elsewhere
 * (SC2034). Terraform references become a plain word first, as the applied file will have.
 */
export async function checkShellEnv(content: string, label = "file.env"): Promise<CheckResult> {
  const references = content.match(TERRAFORM_REFERENCE)?.length ?? 0;
  const result = await withTool("shellcheck", (bin) =>
    inScratch(async (dir) => {
      const file = writeScratch(dir, scratchName(label, ".sh"), content.replace(TERRAFORM_REFERENCE, "tf-reference"));
      return shellcheck(bin, file, false, label, ["-e", "SC2034"]);
    }),
  );
  return references ? { ...result, notes: [...(result.notes ?? []), `${references} Terraform reference(s) checked as a plain word`] } : result;
}

/** shellcheck on a committed source file, in place, following what it sources (-x: the shared preamble). */
export function checkShellFile(path: string, content: string): Promise<CheckResult> {
  return withTool("shellcheck", (bin) => shellcheck(bin, path, content.startsWith("#!"), path, ["-x"]));
}

async function shellcheck(bin: string, file: string, hasShebang: boolean, label: string, extra: readonly string[] = []): Promise<CheckResult> {
  const r = await run(bin, ["-S", "warning", ...(hasShebang ? [] : ["-s", "bash"]), ...extra, file]);
  return r.code === 0 ? ok("shellcheck") : verdict("shellcheck", relabel(outputLines(r.stdout, r.stderr), file, label));
}

export function checkRuby(content: string, label = "file.rb"): Promise<CheckResult> {
  return withTool("ruby", (bin) =>
    inScratch(async (dir) => {
      const file = writeScratch(dir, scratchName(label, ".rb"), content);
      const r = await run(bin, ["-c", file]);
      const lines = relabel(outputLines(r.stderr, r.code === 0 ? "" : r.stdout), file, label);
      return r.code === 0 ? ok("ruby -c") : verdict("ruby -c", lines.length ? lines : [`ruby -c exited ${r.code}`]);
    }),
  );
}

/**
 * TOML is parsed in-process: the consumers (gitlab-runner, …) use strict TOML 1.0 parsers too.
 * gitlab-runner's config.toml also has its key names checked (it ignores unknown ones).
 */
export async function checkToml(content: string, label = "file.toml"): Promise<CheckResult> {
  try {
    const parsed = parseToml(content);
    if (!isRunnerConfig(label)) return ok("smol-toml");
    return verdict(
      "smol-toml + gitlab-runner keys",
      runnerConfigKeyProblems(parsed).map((p) => `${label}: ${p}`),
    );
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const message = error.message.split("\n")[0] ?? error.message;
    return verdict("smol-toml", [`${label}:${error.line}:${error.column}: ${message}`, ...outputLines(error.codeblock).map((l) => `  ${l}`)]);
  }
}

/** Runs a validator that takes one file argument and signals problems by its exit status. */
function fileTool(binary: string, args: readonly string[], tool: string, suffix: string) {
  return (content: string, label = `file${suffix}`): Promise<CheckResult> =>
    withTool(binary, (bin) =>
      inScratch(async (dir) => {
        const file = writeScratch(dir, scratchName(label, suffix), content);
        const r = await run(bin, [...args, file], { cwd: dir });
        const lines = relabel(outputLines(r.stdout, r.stderr), file, label);
        return r.code === 0 ? ok(tool) : verdict(tool, lines.length ? lines : [`${tool} exited ${r.code}`]);
      }),
    );
}

export const checkPrometheusConfig = fileTool("promtool", ["check", "config", "--syntax-only"], "promtool check config", ".yml");
export const checkPrometheusRules = fileTool("promtool", ["check", "rules"], "promtool check rules", ".yml");
const amtoolCheck = fileTool("amtool", ["check-config"], "amtool check-config", ".yml");

/** amtool's minor version (0.25 → 25), or undefined when it cannot be read. */
async function amtoolMinorVersion(): Promise<number | undefined> {
  const amtool = findTool("amtool");
  if (!amtool) return undefined;
  const r = await run(amtool, ["--version"]);
  const m = /version (\d+)\.(\d+)/.exec(`${r.stdout}${r.stderr}`);
  return m ? Number(m[2]) : undefined;
}

/**
 * amtool check-config. Alertmanager 0.26 added `url_file` (a webhook URL kept out of the
 * config); Debian bookworm's amtool is 0.25, so for an older amtool each url_file is checked
 * as a placeholder url and a note says so. The rest of the file is checked as written.
 */
export async function checkAlertmanager(content: string, label = "alertmanager.yml"): Promise<CheckResult> {
  if (!/^\s*(-\s+)?url_file:/m.test(content)) return amtoolCheck(content, label);
  const minor = await amtoolMinorVersion();
  if (minor === undefined || minor >= 26) return amtoolCheck(content, label);
  const result = await amtoolCheck(content.replace(/^(\s*(?:-\s+)?)url_file: .*$/gm, "$1url: http://url-file.invalid/"), label);
  return { ...result, notes: [...(result.notes ?? []), `amtool 0.${minor} predates url_file: checked with a placeholder url instead`] };
}

/** The log file is not on this machine: a fact about the build host, not about the config. */
const LOG_NOT_HERE = /^error: stat of .* failed: No such file or directory$/;

/**
 * `logrotate --debug` on one /etc/logrotate.d file, with a scratch state file (debug mode
 * rotates nothing). logrotate exits 0 after an unknown directive ("ignoring line"), so every
 * "error:" line is a finding, except a log file missing here (the host will have it).
 */
export function checkLogrotate(content: string, label = "/etc/logrotate.d/file"): Promise<CheckResult> {
  const tool = "logrotate --debug";
  return withTool("logrotate", (bin) =>
    inScratch(async (dir) => {
      const file = writeScratch(dir, scratchName(label), content);
      const r = await run(bin, ["--debug", "--state", posix.join(dir, "logrotate.state"), file], { cwd: dir });
      const lines = relabel(outputLines(r.stdout, r.stderr), file, label);
      const absent = lines.filter((l) => LOG_NOT_HERE.test(l));
      const errors = lines.filter((l) => /^error:/.test(l) && !LOG_NOT_HERE.test(l));
      // A non-zero exit explained by nothing but absent log files is fine; otherwise it is a finding.
      if (r.code !== 0 && errors.length === 0 && absent.length === 0) errors.push(`${tool} exited ${r.code}`);
      const notes = lines.filter((l) => /^warning:/.test(l) && !/in debug mode does nothing/.test(l));
      return verdict(tool, errors, notes);
    }),
  );
}

/** sshd refuses to start without it; a fact about this build machine (no sshd running), not the config. */
const NO_PRIVSEP_DIR = /^Missing privilege separation directory: /;

/**
 * `sshd -t` on an /etc/ssh/sshd_config.d drop-in, included from a scratch sshd_config with a
 * scratch host key, as the host's sshd_config includes it. Every line sshd prints is a
 * finding, except the missing privilege separation directory (checked after the config).
 */
export function checkSshdConfig(content: string, label = "/etc/ssh/sshd_config.d/file.conf"): Promise<CheckResult> {
  const tool = "sshd -t";
  return withTool("sshd", (sshd) =>
    withTool("ssh-keygen", (keygen) =>
      inScratch(async (dir) => {
        const dropIn = writeScratch(dir, scratchName(label), content);
        const hostKey = posix.join(dir, "host_key");
        const key = await run(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
        if (key.code !== 0) return verdict(tool, [`ssh-keygen failed: ${outputLines(key.stdout, key.stderr).join("; ")}`]);
        const config = writeScratch(dir, "sshd_config", `HostKey ${hostKey}\nPidFile none\nInclude ${dropIn}\n`);
        const r = await run(sshd, ["-t", "-f", config]);
        const lines = relabel(outputLines(r.stdout, r.stderr), dropIn, label);
        const findings = lines.filter((l) => !NO_PRIVSEP_DIR.test(l));
        // A non-zero exit explained by nothing but the missing directory is fine; otherwise it is a finding.
        if (r.code !== 0 && findings.length === 0 && findings.length === lines.length) findings.push(`${tool} exited ${r.code}`);
        return verdict(tool, findings);
      }),
    ),
  );
}

/** Said by iptables when it may not touch netfilter: a fact about this build machine (not root), not the rules. */
const NOT_PERMITTED = /Permission denied|Operation not permitted|you must be root/i;

/**
 * `iptables-restore --test` (or ip6tables-restore for a .ip6tables file), as the jobs firewall
 * loads the file, in a network namespace of its own (`unshare --net`): --test asks the kernel,
 * and nothing of this machine's own firewall is read or touched. Needs root; without it the
 * check is skipped outside CI, like a missing validator.
 */
export function checkIptablesRules(content: string, label = "rules.iptables"): Promise<CheckResult> {
  const binary = label.endsWith(".ip6tables") ? "ip6tables-restore" : "iptables-restore";
  const tool = `${binary} --test`;
  return withTool(binary, (bin) =>
    withTool("unshare", (unshare) =>
      inScratch(async (dir) => {
        const file = writeScratch(dir, scratchName(label), content);
        const r = await run(unshare, ["--net", bin, "--test", file]);
        const lines = relabel(outputLines(r.stdout, r.stderr), file, label);
        if (r.code !== 0 && lines.some((l) => NOT_PERMITTED.test(l))) return { ...missing(`root for ${tool}`), tool };
        if (r.code !== 0 && lines.length === 0) lines.push(`${tool} exited ${r.code}`);
        return verdict(tool, r.code === 0 ? [] : lines);
      }),
    ),
  );
}

/** JSON files (Grafana dashboards): they must parse. */
export async function checkJson(content: string, label = "file.json"): Promise<CheckResult> {
  try {
    JSON.parse(content);
    return ok("json parse");
  } catch (error) {
    return verdict("json parse", [`${label}: ${(error as Error).message}`]);
  }
}

export interface TargetFile {
  readonly path: string;
  readonly content: string;
}

/**
 * `promtool test rules` for a rules unit-test file. The rule files it names are laid out at
 * their target paths in a scratch root; absolute rule_files entries are re-pointed into it.
 */
export function checkPrometheusRuleTests(test: TargetFile, rules: readonly TargetFile[]): Promise<CheckResult> {
  const tool = "promtool test rules";
  return withTool("promtool", (bin) =>
    inScratch(async (root) => {
      for (const r of rules) writeScratch(root, r.path, r.content);
      let content = test.content;
      try {
        const doc = parseYaml(test.content) as { rule_files?: unknown };
        if (Array.isArray(doc?.rule_files)) {
          doc.rule_files = doc.rule_files.map((f) => (typeof f === "string" && f.startsWith("/") ? posix.join(root, f) : f));
          content = stringify(doc);
        }
      } catch {
        // promtool reports the YAML error itself.
      }
      const file = writeScratch(root, test.path, content);
      const r = await run(bin, ["test", "rules", file], { cwd: posix.dirname(file), env: goToolEnv() });
      const lines = relabel(relabel(outputLines(r.stdout, r.stderr), file, test.path), `${root}/`, "/");
      return r.code === 0 ? ok(tool) : verdict(tool, lines.length ? lines : [`${tool} exited ${r.code}`]);
    }),
  );
}

/** Strings Terraform would fail to parse as templates (unescaped shell ${...} and the like). */
export async function checkTerraformTemplates(stack: unknown): Promise<CheckResult> {
  return verdict("terraform templates", stackTemplateProblems(stack));
}

/** YAML with no validator of its own: it must parse, without duplicate keys. */
export async function checkYaml(content: string, label = "file.yml"): Promise<CheckResult> {
  const doc = parseDocument(content, { uniqueKeys: true, strict: true });
  return verdict(
    "yaml parse",
    [...doc.errors, ...doc.warnings].map((e) => `${label}: ${e.message.split("\n")[0]}`),
  );
}

const CRON_FIELD = /^[0-9*/,-]+$/;

/** A busybox crontab: five schedule fields and an absolute command on every entry. */
export async function checkCrontab(content: string, label = "crontab"): Promise<CheckResult> {
  const findings: string[] = [];
  if (!content.endsWith("\n")) findings.push(`${label}: must end with a newline (crond ignores a last line without one)`);
  content.split("\n").forEach((line, i) => {
    if (/^\s*(#|$)/.test(line)) return;
    const fields = line.trim().split(/\s+/);
    const schedule = fields.slice(0, 5);
    const command = fields[5];
    if (schedule.length < 5 || !schedule.every((f) => CRON_FIELD.test(f))) findings.push(`${label}:${i + 1}: invalid schedule in '${line}'`);
    else if (!command?.startsWith("/")) findings.push(`${label}:${i + 1}: command must be an absolute path in '${line}'`);
  });
  return verdict("crontab check", findings);
}
