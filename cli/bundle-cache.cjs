// @ts-check
// The bundle of cli/main.ts that cli/run.cjs runs, built by esbuild and kept by its content:
// every checkout sharing the cache (a copy, a worktree, the target branch's checkout in the
// pipeline's cost line, all with node_modules linked) runs the same bundle when its sources
// are the same. Finding it is ~650 stats when this checkout has used it before (the sizes and
// mtimes it recorded), else one read of every input to compare contents; only a change to an
// input builds again (~1 s). The bundle reads the files it finds beside its sources at run time
// (host scripts, dashboards) from the checkout it runs in: `ROOT_PARAMETER`, not a baked path.
//
// In the cache directory:
//   cli.<key>.cjs / .json     a bundle, keyed by its code's hash, and what it was built from
//                             (format, Node ABI, every input file with its content's hash)
//   cli.<key>.v8cache         V8's compiled code for it (cli/run.cjs)
//   root.<hash>.json          a checkout's last bundle, with its inputs' sizes and mtimes then
// The four bundles and sixteen checkouts most recently used are kept.
"use strict";
const { createHash } = require("node:crypto");
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } = require("node:fs");
const { dirname, join, relative, sep } = require("node:path");

/** Bump when the way the bundle is built changes: bundles of an older format are built again. */
const FORMAT = 2;
/** Bundles kept (the least recently found go first): a few checkouts or branches. */
const KEEP = 4;
/** Checkouts remembered (the least recently seen go first; a forgotten one compares contents again). */
const ROOTS_KEPT = 16;
/** The parameter through which a bundle gets the checkout it runs in. */
const ROOT_PARAMETER = "__gitlabPlatformRoot";

/**
 * @typedef {{ format: number, abi: string, key: string, inputs: [string, string][] }} Manifest
 * @typedef {{ format: number, abi: string, key: string, stats: [string, number, number][] }} RootIndex
 */

const sha256 = (/** @type {string | Buffer} */ data) => createHash("sha256").update(data).digest("hex");

/** @param {string} path */
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/** Writes atomically: concurrent runs never read half a file. */
function writeAtomically(/** @type {string} */ path, /** @type {string} */ data) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

/**
 * Each project source file that uses __dirname or __filename gets its own location in the
 * checkout the bundle runs in: files read at run time beside a source must be that checkout's.
 * @param {string} root
 * @returns {import("esbuild").Plugin}
 */
function sourceLocation(root) {
  return {
    name: "source-location",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.split(sep).includes("node_modules")) return undefined;
        let contents = readFileSync(args.path, "utf8");
        const at = (/** @type {string} */ path) => `require("node:path").join(${ROOT_PARAMETER}, ${JSON.stringify(relative(root, path))})`;
        const prelude = [];
        if (/\b__dirname\b/.test(contents)) prelude.push(`const __dirname = ${at(dirname(args.path))};`);
        if (/\b__filename\b/.test(contents)) prelude.push(`const __filename = ${at(args.path)};`);
        if (prelude.length > 0) contents = `${prelude.join(" ")}\n${contents}`;
        return { contents, loader: "ts" };
      });
    },
  };
}

/** The cache directory a checkout uses: GITLAB_PLATFORM_CACHE_DIR, else in its node_modules. */
const cacheDir = (/** @type {string} */ root) => process.env.GITLAB_PLATFORM_CACHE_DIR || join(root, "node_modules", ".cache", "gitlab-platform");

/** Where the cache in `dir` remembers the checkout `root`'s last bundle. */
const indexFile = (/** @type {string} */ dir, /** @type {string} */ root) => join(dir, `root.${sha256(root).slice(0, 16)}.json`);

/** esbuild could not build the bundle (a broken or foreign-platform install): its first line. */
class EsbuildFailed extends Error {}

class BundleCache {
  /**
   * @param {string} root the checkout
   * @param {string} entry its cli/main.ts
   * @param {string} dir the cache directory
   * @param {string} runner cli/run.cjs: how a bundle is loaded is part of what it is built from
   */
  constructor(root, entry, dir, runner) {
    this.root = root;
    this.entry = entry;
    this.dir = dir;
    this.runner = runner;
    this.abi = process.versions.modules;
    this.index = indexFile(dir, root);
  }

  /** @param {string} key */
  file(key, extension = "cjs") {
    return join(this.dir, `cli.${key}.${extension}`);
  }

  /** The bundle for this checkout's sources: this checkout's last, one built from the same contents, or a new one. */
  async find() {
    const key = this.fromIndex() ?? this.fromContents() ?? (await this.build());
    try {
      return { key, source: readFileSync(this.file(key), "utf8") };
    } catch {
      // Let go by another run between finding and reading it (it keeps the most recent few).
      const built = await this.build();
      return { key: built, source: readFileSync(this.file(built), "utf8") };
    }
  }

  /** This checkout's last bundle, if every input still has the size and mtime recorded. */
  fromIndex() {
    /** @type {RootIndex | undefined} */
    const index = readJson(this.index);
    if (!index || index.format !== FORMAT || index.abi !== this.abi) return undefined;
    for (const [file, size, mtimeMs] of index.stats) {
      const s = statSync(join(this.root, file), { throwIfNoEntry: false });
      if (!s || s.size !== size || s.mtimeMs !== mtimeMs) return undefined;
    }
    if (!statSync(this.file(index.key), { throwIfNoEntry: false })) return undefined;
    this.used(index.key);
    return index.key;
  }

  /** Marks the bundle as just found: the least recently found go first. */
  used(/** @type {string} */ key) {
    const now = new Date();
    try {
      utimesSync(this.file(key, "json"), now, now);
    } catch {
      // Another run let it go meanwhile: the bundle itself was found, and is read next.
    }
  }

  /** A bundle in the cache built from inputs with the contents this checkout's have. */
  fromContents() {
    for (const manifest of this.manifests()) {
      if (manifest.format !== FORMAT || manifest.abi !== this.abi) continue;
      const same = manifest.inputs.every(([file, hash]) => {
        try {
          return sha256(readFileSync(join(this.root, file))) === hash;
        } catch {
          return false;
        }
      });
      if (same && statSync(this.file(manifest.key), { throwIfNoEntry: false })) {
        this.remember(manifest);
        this.evict();
        return manifest.key;
      }
    }
    return undefined;
  }

  /** The bundles' manifests, the most recently found first. */
  manifests() {
    /** @type {{ manifest: Manifest, used: number }[]} */
    const found = [];
    let names = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    for (const name of names) {
      if (!/^cli\.[0-9a-f]+\.json$/.test(name)) continue;
      const manifest = readJson(join(this.dir, name));
      const used = statSync(join(this.dir, name), { throwIfNoEntry: false })?.mtimeMs;
      if (manifest && used !== undefined) found.push({ manifest, used });
    }
    return found.sort((a, b) => b.used - a.used).map((f) => f.manifest);
  }

  /** Records the bundle as this checkout's (sizes and mtimes now) and as just used. */
  remember(/** @type {Manifest} */ manifest) {
    const stats = manifest.inputs.map(([file]) => {
      const s = statSync(join(this.root, file));
      return /** @type {[string, number, number]} */ ([file, s.size, s.mtimeMs]);
    });
    /** @type {RootIndex} */
    const index = { format: FORMAT, abi: this.abi, key: manifest.key, stats };
    writeAtomically(this.index, JSON.stringify(index));
    this.used(manifest.key);
  }

  /** Builds the bundle, keeps it by its code's hash, and lets the least recently found ones go. */
  async build() {
    const esbuild = require("esbuild");
    const result = await esbuild
      .build({
        entryPoints: [this.entry],
        absWorkingDir: this.root,
        bundle: true,
        platform: "node",
        target: `node${process.versions.node.split(".")[0]}`,
        format: "cjs",
        // Module names as this checkout sees them: a node_modules linked from another checkout
        // then gives the same bundle as the real one (esbuild names modules by their path).
        preserveSymlinks: true,
        write: false,
        metafile: true,
        logLevel: "silent",
        plugins: [sourceLocation(this.root)],
      })
      .catch((/** @type {unknown} */ error) => {
        throw new EsbuildFailed(error instanceof Error ? error.message.split("\n")[0] : String(error));
      });
    const code = result.outputFiles[0].text;
    const key = sha256(code).slice(0, 16);
    const inputs = Object.keys(result.metafile.inputs)
      .map((file) => join(this.root, file))
      // Beside the sources: how they are loaded, how esbuild reads them, which packages they get.
      .concat(this.runner, __filename, ...["tsconfig.json", "package-lock.json"].map((f) => join(this.root, f)).filter((f) => existsSync(f)))
      .map((file) => /** @type {[string, string]} */ ([relative(this.root, file), sha256(readFileSync(file))]));
    /** @type {Manifest} */
    const manifest = { format: FORMAT, abi: this.abi, key, inputs };
    mkdirSync(this.dir, { recursive: true });
    // The same key is the same code: one that another run built meanwhile stays as it is.
    if (!existsSync(this.file(key))) writeAtomically(this.file(key), code);
    writeAtomically(this.file(key, "json"), JSON.stringify(manifest));
    this.remember(manifest);
    this.evict();
    return key;
  }

  /** Removes all but the KEEP most recently found bundles and ROOTS_KEPT checkouts, and what the format before this one left. */
  evict() {
    for (const { key } of this.manifests().slice(KEEP)) for (const extension of ["cjs", "json", "v8cache"]) rmSync(this.file(key, extension), { force: true });
    const names = readdirSync(this.dir);
    const roots = names
      .filter((name) => /^root\.[0-9a-f]+\.json$/.test(name))
      .map((name) => ({ name, seen: statSync(join(this.dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
      .sort((a, b) => b.seen - a.seen);
    for (const { name } of roots.slice(ROOTS_KEPT)) rmSync(join(this.dir, name), { force: true });
    rmSync(join(this.dir, "cli.cjs"), { force: true });
    for (const name of names)
      if (/^cli\.[0-9a-f]+\.v8cache$/.test(name) && !statSync(this.file(name.split(".")[1], "json"), { throwIfNoEntry: false }))
        rmSync(join(this.dir, name), { force: true });
  }
}

module.exports = { BundleCache, EsbuildFailed, ROOT_PARAMETER, cacheDir, indexFile };
