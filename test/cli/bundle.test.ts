// The app runs from a bundle (cli/run.cjs): it must write exactly what the TypeScript
// sources write, find the files read at synth time beside its sources (in the checkout it runs
// in), and be built again when (and only when) a source changed.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, stackNamesOf } from "../helpers";
import { runApp, scratchWithExamples } from "../support/run-app";
import { cli } from "../support/cli";

/** Every file under `dir`, relative, with its bytes. */
function tree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

const { cacheDir, indexFile } = createRequire(import.meta.url)("../../cli/bundle-cache.cjs") as {
  cacheDir: (root: string) => string;
  indexFile: (dir: string, root: string) => string;
};
/** The bundle cache cli/run.cjs uses here. */
const BUNDLE_CACHE = cacheDir(REPO_ROOT);

/** The key of the bundle a checkout last ran, from its entry in the cache; runs this checkout's first when it has none. */
function bundleOf(root: string): string {
  const index = indexFile(BUNDLE_CACHE, root);
  if (!existsSync(index)) spawnSync(process.execPath, ["cli/run.cjs"], { cwd: root, env: { ...process.env, GITLAB_PLATFORM_CACHE_DIR: BUNDLE_CACHE } });
  return (JSON.parse(readFileSync(index, "utf8")) as { key: string }).key;
}

describe("the bundled app", () => {
  // The one run of main.ts from the sources that succeeds as a child process: it also shows
  // main.ts synthesizing every environment by default (test/main.test.ts has the rest).
  it("writes byte for byte what the TypeScript sources write (node --require tsx/cjs main.ts, every environment by default)", async () => {
    const s = scratchWithExamples("bundle-same-");
    const unbundled = await runApp(s.configDir, join(s.dir, "from-sources"), 60_000, "sources");
    expect(unbundled.stderr).toBe("");
    expect(unbundled.status).toBe(0);
    const all = stackNamesOf(["cluster", "homelab", "k3s-homelab", "production", "staging"]);
    expect(readdirSync(join(s.dir, "from-sources", "stacks")).sort()).toEqual(all);
    expect(Object.keys(JSON.parse(readFileSync(join(s.dir, "from-sources", "manifest.json"), "utf8")).stacks).sort()).toEqual(all);
    const app = (JSON.parse(readFileSync(join(REPO_ROOT, "cdktf.json"), "utf8")) as { app: string }).app;
    expect(app).toBe("node cli/run.cjs app");
    const bundled = cli(["app"], { GITLAB_CONFIG_DIR: s.configDir, CDKTF_OUTDIR: join(s.dir, "from-bundle") });
    expect(bundled.status, bundled.stderr).toBe(0);
    const a = tree(join(s.dir, "from-sources"));
    const b = tree(join(s.dir, "from-bundle"));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [file, bytes] of a) expect(b.get(file)?.equals(bytes), file).toBe(true);
    // What is read from disk at synth time made it in: host scripts (the backup, the jobs' firewall), dashboards.
    const homelab = readFileSync(join(s.dir, "from-bundle", "stacks", "homelab", "cdk.tf.json"), "utf8");
    expect(homelab).toContain("gitlab-backup-to-nfs");
    expect(homelab).toContain("DOCKER-USER");
    expect(homelab).toContain('\\"title\\"');
    const staging = readFileSync(join(s.dir, "from-bundle", "stacks", "staging", "cdk.tf.json"), "utf8");
    expect(staging).toContain("user_data");
  }, 120_000);

  it("is shared by checkouts with the same sources, which read the files beside them from their own tree; a changed source gets its own", () => {
    // A copy of the repository, node_modules linked, sharing this checkout's bundle cache.
    const copy = mkdtempSync(join(tmpdir(), "bundle-copy-"));
    for (const entry of readdirSync(REPO_ROOT)) {
      if ([".git", "node_modules", "cdktf.out", "verify.out", ".bundle-cache"].includes(entry)) continue;
      cpSync(join(REPO_ROOT, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(REPO_ROOT, "node_modules"), join(copy, "node_modules"));
    const env = { ...process.env, GITLAB_PLATFORM_CACHE_DIR: BUNDLE_CACHE, CDKTF_OUTDIR: join(copy, "cdktf.out") };
    const synth = (...envs: string[]) => {
      const r = spawnSync(process.execPath, ["cli/run.cjs", "synth", ...envs], { cwd: copy, env, encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      return (name: string) => readFileSync(join(copy, "cdktf.out", "stacks", name, "cdk.tf.json"), "utf8");
    };
    const ours = bundleOf(REPO_ROOT);
    const built = statSync(join(BUNDLE_CACHE, `cli.${ours}.cjs`)).mtimeMs;

    // The same sources: this checkout's bundle, not built again, reading the copy's host scripts.
    const script = join(copy, "userdata", "scripts", "gitlab-backup-to-nfs.sh");
    writeFileSync(script, readFileSync(script, "utf8").replace("\n", "\n# read from the copy\n"));
    expect(synth("homelab")("homelab")).toContain("# read from the copy");
    expect(bundleOf(copy)).toBe(ours);
    expect(statSync(join(BUNDLE_CACHE, `cli.${ours}.cjs`)).mtimeMs).toBe(built);

    // A changed source: a bundle of its own, with the change; the same one again the next time.
    const hostNames = join(copy, "stacks", "host-names.ts");
    writeFileSync(hostNames, readFileSync(hostNames, "utf8").replace("web: fqdn(env.gitlab.hostname)", "web: fqdn(`${env.gitlab.hostname}-changed`)"));
    expect(synth("staging")("staging")).toContain("gitlab-staging-changed.example.com");
    const changed = bundleOf(copy);
    expect(changed).not.toBe(ours);
    const changedBuilt = statSync(join(BUNDLE_CACHE, `cli.${changed}.cjs`)).mtimeMs;
    // The next run needs no synth to show it: with no command, cli/run.cjs finds and loads the
    // bundle as for any command (writing V8's cache of it again, removed here), then the bundle
    // prints the usage (exit 2).
    const v8cache = join(BUNDLE_CACHE, `cli.${changed}.v8cache`);
    rmSync(v8cache);
    const again = spawnSync(process.execPath, ["cli/run.cjs"], { cwd: copy, env, encoding: "utf8" });
    expect([again.status, again.stderr]).toEqual([2, expect.stringMatching(/^usage \(from the repository root\):\n/)]);
    expect(bundleOf(copy)).toBe(changed);
    expect(statSync(join(BUNDLE_CACHE, `cli.${changed}.cjs`)).mtimeMs).toBe(changedBuilt);
    expect(existsSync(v8cache)).toBe(true);
    // This checkout still runs its own.
    expect(bundleOf(REPO_ROOT)).toBe(ours);
  }, 120_000);

  it("says in one line that esbuild cannot run, when it cannot", () => {
    const s = scratchWithExamples("bundle-broken-");
    const r = cli(["synth", "staging"], {
      GITLAB_CONFIG_DIR: s.configDir,
      CDKTF_OUTDIR: s.outdir,
      GITLAB_PLATFORM_CACHE_DIR: join(s.dir, "cache"),
      // A binary that exits at once: what a broken or foreign-platform install looks like.
      ESBUILD_BINARY_PATH: "/bin/false",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^could not bundle the app with esbuild \(.+\)\. esbuild runs a binary from @esbuild\/[a-z0-9]+-[a-z0-9]+: reinstall with npm ci\.\n$/,
    );
  }, 120_000);
});
