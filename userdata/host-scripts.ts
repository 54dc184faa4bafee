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

const cache = new Map<HostScript, string>();

export function hostScript(name: HostScript): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(__dirname, "scripts", name), "utf8");
    cache.set(name, text);
  }
  return text;
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
