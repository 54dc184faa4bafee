// vitest globalSetup, first: the run's temporary files go under one directory of its own,
// removed when the run ends. TMPDIR names it for os.tmpdir(), mktemp and Python alike, and the
// workers and every process they start inherit it. Otherwise each run left ~100 MB in /tmp:
// repository copies, bundle caches, and an outdir per Testing.synth (cdktf never removes them).
// The Docker engines keep their short /tmp/de-* paths (socket path limits) and remove them.
// tsx's cache of compiled sources (<tmpdir>/tsx-<user>, keyed by content) stays where tsx
// keeps it outside the tests: a cold one costs each run's first `node --require tsx/cjs`
// about a CPU-second.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/** The name of tsx's cache directory under the temporary directory (tsx's own rule). */
export const TSX_CACHE = `tsx-${process.geteuid?.() ?? userInfo().username}`;

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "gitlab-platform-tests-"));
  const tsxCache = join(tmpdir(), TSX_CACHE);
  mkdirSync(tsxCache, { recursive: true });
  symlinkSync(tsxCache, join(dir, TSX_CACHE));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    // In the background: removing some ten thousand files need not hold up the run's result.
    spawn("rm", ["-rf", "--", dir], { detached: true, stdio: "ignore" }).unref();
  };
}
