// The example stacks a test run synthesizes (test/setup/example-stacks.ts), kept by what they
// are made from: a run whose inputs are an earlier run's reads that run's stacks. The inputs
// are every file of the checkout but the test files themselves (`git ls-files`: tracked, and
// untracked unless ignored), by content; the packages installed (node_modules/.package-lock.json);
// Node's version; the checkout's path; and the environment variables synthesis could read.
// Not in the key: files git ignores, and packages changed by hand inside node_modules. A
// checkout that is not the top of a git repository synthesizes on every run, as before.
//
// In the cache directory (cli/bundle-cache.cjs's, GITLAB_PLATFORM_CACHE_DIR or
// node_modules/.cache/gitlab-platform), under example-stacks/:
//   <key>/<stack>.json    one run's stacks, moved into place whole (a run never sees half of them)
// The KEEP most recently used, and any used within the hour, are kept.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, type Stats, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evictLeastRecentlyUsed, testCacheDir } from "./kept-entries";

const REPO_ROOT = join(__dirname, "..", "..");

/** Bump when what is synthesized, or how, changes in a way the inputs below do not show. */
const FORMAT = 1;
/** Entries kept (the least recently used go first, none used within the hour): a few branches or checkouts. */
const KEEP = 4;
/** Variables the app, cdktf or the providers read during synthesis, by prefix. */
const READ_FROM_ENVIRONMENT = /^(GITLAB_|CDKTF_|SYNTH_|TF_|TERRAFORM|DOCKER)/;

export class ExampleStacksCache {
  readonly dir: string;
  /** Undefined where the inputs cannot be listed (not a git checkout): nothing is kept then. */
  readonly key: string | undefined;

  constructor(root = REPO_ROOT, dir = testCacheDir("example-stacks", root)) {
    this.dir = dir;
    this.key = inputsKey(root);
  }

  /** The stacks an earlier run made from these inputs, if kept. */
  find(): string | undefined {
    if (this.key === undefined) return undefined;
    const entry = join(this.dir, this.key);
    try {
      const now = new Date();
      utimesSync(entry, now, now);
      return entry;
    } catch {
      // Not kept, or evicted by another run just now.
      return undefined;
    }
  }

  /** A new, empty directory to synthesize into (under this run's temporary directory when nothing is kept). */
  scratch(): string {
    if (this.key === undefined) return mkdtempSync(join(tmpdir(), "example-stacks-"));
    mkdirSync(this.dir, { recursive: true });
    return mkdtempSync(join(this.dir, `.${this.key}-`));
  }

  /** Moves a scratch directory holding every stack into place; returns where the stacks now are. */
  keep(scratch: string): string {
    if (this.key === undefined) return scratch;
    const entry = join(this.dir, this.key);
    try {
      renameSync(scratch, entry);
    } catch (error) {
      // Another run kept the same inputs' stacks meanwhile: the same stacks.
      if (!existsSync(entry)) throw error;
      rmSync(scratch, { recursive: true, force: true });
    }
    evictLeastRecentlyUsed(this.dir, KEEP);
    return entry;
  }
}

/**
 * The hash of everything the example stacks are made from, or undefined where `root` is not
 * the top of a git checkout (a copy inside another repository would list nothing of its own).
 */
export function inputsKey(root: string): string | undefined {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  let listed: string;
  try {
    if (realpathSync(git("rev-parse", "--show-toplevel").trim()) !== realpathSync(root)) return undefined;
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard");
  } catch {
    return undefined;
  }
  const hash = createHash("sha256");
  hash.update(`format ${FORMAT}\0root ${root}\0node ${process.version}\0`);
  const files = [...new Set(listed.split("\0").filter((f) => f !== "" && !f.endsWith(".test.ts")))].sort();
  for (const file of [...files, "node_modules/.package-lock.json"]) {
    hash.update(`${file}\0`);
    hash.update(contentOf(join(root, file)));
    hash.update("\0");
  }
  for (const name of Object.keys(process.env)
    .filter((n) => READ_FROM_ENVIRONMENT.test(n))
    .sort())
    hash.update(`${name}=${process.env[name]}\0`);
  return hash.digest("hex").slice(0, 32);
}

/**
 * What a listed path holds: a file's bytes, a symbolic link's target, a marker for a directory
 * (git lists an untracked repository inside the checkout as one) or for a path that is gone
 * (a tracked file deleted from the working tree is an input too: its absence).
 */
function contentOf(path: string): Buffer | string {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch {
    return "\0missing\0";
  }
  if (stats.isSymbolicLink()) return `\0link\0${readlinkSync(path)}`;
  if (stats.isDirectory()) return "\0directory\0";
  return readFileSync(path);
}
