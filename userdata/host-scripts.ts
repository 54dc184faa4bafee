// Host scripts are real .sh files (shellcheck checks them as files); this reads them for
// embedding in user data or uploading into containers.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const HOST_SCRIPTS = [
  "gitlab-bootstrap.sh",
  "gitlab-apply-settings.sh",
  "gitlab-automation-token.sh",
  "gitlab-keep-identity.sh",
  "gitlab-data-owners.sh",
  "runner-entrypoint.sh",
  "docker-cleanup.sh",
  "runner-docker-cleanup.sh",
  "jobs-firewall.sh",
  "gitlab-backup-share-check.sh",
  "runner-bootstrap.sh",
  "spot-interruption-watcher.sh",
  "runner-termination-handler.sh",
  "runner-manager-bootstrap.sh",
  "runner-token-sync.sh",
  "runner-worker-setup.sh",
  "runner-worker-ready.sh",
  "gitlab-backup-to-nfs.sh",
  "gitlab-backup-s3.sh",
  "gitlab-secrets-export.sh",
] as const;
export type HostScript = (typeof HOST_SCRIPTS)[number];

/**
 * How a host script includes the shared preamble (userdata/scripts/lib/preamble.sh): run from
 * the repository these lines source it, and shellcheck -x follows them; shipped, hostScript()
 * puts the preamble's text in their place, so each host gets self-contained scripts.
 */
export const HOST_SCRIPT_INCLUDE = '# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh\n. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"\n';

const cache = new Map<HostScript, string>();

/** A host script as hosts and containers receive it: the repository's file, the preamble inlined. */
export function hostScript(name: HostScript): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = inlinePreamble(readFileSync(join(__dirname, "scripts", name), "utf8"), `userdata/scripts/${name}`);
    cache.set(name, text);
  }
  return text;
}

/** `text` with HOST_SCRIPT_INCLUDE replaced by the preamble; any other mention of it is refused. */
export function inlinePreamble(text: string, origin: string): string {
  const parts = text.split(HOST_SCRIPT_INCLUDE);
  if (parts.some((part) => part.includes("lib/preamble.sh"))) throw new Error(`${origin} names lib/preamble.sh other than in the two include lines hostScript() inlines`);
  if (parts.length > 2) throw new Error(`${origin} includes lib/preamble.sh more than once`);
  if (parts.length === 1) return text;
  const preamble = readFileSync(join(__dirname, "scripts", "lib", "preamble.sh"), "utf8");
  return `${parts[0]}# --- userdata/scripts/lib/preamble.sh, inlined ---\n${preamble}# --- end of userdata/scripts/lib/preamble.sh ---\n${parts[1]}`;
}

/**
 * A host script without its comment lines and blank lines: EC2 takes at most 16 KB of user
 * data and the comments are a quarter of it. The documented original is the repository's
 * userdata/scripts/<name>; the first line after the shebang says so. Only full-line comments
 * go, so the code is unchanged (heredocs, where a '#' line could be data, are refused).
 */
export function compactScript(name: HostScript): string {
  return compactScriptText(hostScript(name), `userdata/scripts/${name}`);
}

/** compactScript for any script text; `origin` names the commented original. */
export function compactScriptText(text: string, origin: string): string {
  if (/<<-?\s*['"]?\w/.test(text)) throw new Error(`${origin} has a heredoc; compactScript cannot strip its comments safely`);
  const [shebang, ...rest] = text.split("\n");
  const kept = rest.filter((line) => !/^\s*$/.test(line) && !/^\s*#(?!\s*shellcheck\s)/.test(line));
  return `${[shebang, `# ${origin} without comments`, ...kept].join("\n")}\n`;
}
