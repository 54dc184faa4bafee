// Host scripts are real .sh files (shellcheck checks them as files); this reads them for
// embedding in user data or uploading into containers.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const HOST_SCRIPTS = [
  "gitlab-bootstrap.sh",
  "gitlab-apply-settings.sh",
  "runner-entrypoint.sh",
  "docker-cleanup.sh",
  "runner-bootstrap.sh",
  "spot-interruption-watcher.sh",
  "runner-termination-handler.sh",
  "gitlab-backup-to-nfs.sh",
  "gitlab-backup-s3.sh",
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
