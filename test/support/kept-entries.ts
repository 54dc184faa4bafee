// What the test runs' caches (example-stacks-cache.ts, cold-aws-answers.ts) share: a directory
// beside the app's bundle cache, and how their least recently used entries go.
import { readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const REPO_ROOT = join(__dirname, "..", "..");
const { cacheDir } = createRequire(__filename)("../../cli/bundle-cache.cjs") as { cacheDir: (root: string) => string };

/** `name` in the cache directory cli/bundle-cache.cjs uses (GITLAB_PLATFORM_CACHE_DIR, else node_modules/.cache/gitlab-platform). */
export const testCacheDir = (name: string, root = REPO_ROOT): string => join(cacheDir(root), name);

/** An entry used within this long is never removed, nor a scratch name this young. */
export const HOUR = 3_600_000;

/**
 * Removes all but the `keep` most recently used entries of `dir` (readers touch what they use),
 * except any used within the hour: a run reads its entry until it ends. Names starting with "."
 * are scratch (a directory being filled, a file being written) and go once an hour old. Each
 * goes by a rename first, so that another run finds an entry whole or not at all; a name another
 * run took meanwhile is skipped.
 */
export function evictLeastRecentlyUsed(dir: string, keep: number): void {
  const now = Date.now();
  const entries = readdirSync(dir).flatMap((name) => {
    try {
      return [{ name, used: statSync(join(dir, name)).mtimeMs }];
    } catch {
      return []; // renamed or removed by another run meanwhile
    }
  });
  const scratch = entries.filter((e) => e.name.startsWith("."));
  const old = entries
    .filter((e) => !e.name.startsWith("."))
    .sort((a, b) => b.used - a.used)
    .slice(keep);
  for (const e of [...scratch, ...old]) {
    if (now - e.used <= HOUR) continue;
    const going = join(dir, `.evicted-${e.name}-${process.pid}`);
    try {
      renameSync(join(dir, e.name), going);
    } catch {
      continue; // another run took it first
    }
    rmSync(going, { recursive: true, force: true });
  }
}
