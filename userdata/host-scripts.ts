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
 * The two lines with which a host script includes a shared library, userdata/scripts/lib/<name>
 * (preamble.sh: what every EC2 script shares; gitlab-runner.sh: installing gitlab-runner).
 * Run from the repository they source it, and shellcheck -x follows them; shipped,
 * hostScript() puts the library's text in their place, so each host gets self-contained scripts.
 */
export function libraryInclude(name: string): string {
  return `# shellcheck source-path=SCRIPTDIR source=lib/${name}\n. "$(dirname "\${BASH_SOURCE[0]}")/lib/${name}"\n`;
}

const INCLUDE = /^# shellcheck source-path=SCRIPTDIR source=lib\/([a-z0-9-]+\.sh)\n\. "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/lib\/\1"\n/gm;

const cache = new Map<HostScript, string>();

/** A host script as hosts and containers receive it: the repository's file, its libraries inlined. */
export function hostScript(name: HostScript): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = inlineLibraries(readFileSync(join(__dirname, "scripts", name), "utf8"), `userdata/scripts/${name}`);
    cache.set(name, text);
  }
  return text;
}

/** `text` with each libraryInclude() replaced by the library; any other mention of lib/ is refused. */
export function inlineLibraries(text: string, origin: string): string {
  const seen = new Set<string>();
  const inlined = text.replace(INCLUDE, (_, name: string) => {
    if (seen.has(name)) throw new Error(`${origin} includes lib/${name} more than once`);
    seen.add(name);
    const library = readFileSync(join(__dirname, "scripts", "lib", name), "utf8");
    return `# --- userdata/scripts/lib/${name}, inlined ---\n${library}# --- end of userdata/scripts/lib/${name} ---\n`;
  });
  const stray = text.replace(INCLUDE, "").match(/lib\/[\w.-]+\.sh/);
  if (stray) throw new Error(`${origin} names ${stray[0]} other than in the two include lines hostScript() inlines`);
  return inlined;
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
