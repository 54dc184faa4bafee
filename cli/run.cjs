#!/usr/bin/env node
// @ts-check
// Starts the app and the npm commands fast: runs a bundle of cli/main.ts (one file, built by
// esbuild, with V8's compiled code cached beside it) instead of transpiling ~150 TypeScript
// files on every run. The bundle is rebuilt only when a file it was built from changed
// (size or mtime: ~650 stats, a few ms). GITLAB_PLATFORM_BUNDLE=0 runs the sources through
// tsx instead, exactly as `node --require tsx/cjs main.ts` does.
//   node cli/run.cjs <command> [args]      (the npm scripts and cdktf.json call this)
"use strict";
const { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join, relative, resolve, sep } = require("node:path");
const vm = require("node:vm");

const ROOT = resolve(__dirname, "..");
const ENTRY = join(ROOT, "cli", "main.ts");
const CACHE = process.env.GITLAB_PLATFORM_CACHE_DIR || join(ROOT, "node_modules", ".cache", "gitlab-platform");
const BUNDLE = join(CACHE, "cli.cjs");
/** Bump when the way the bundle is built changes: bundles of an older format are rebuilt. */
const FORMAT = 1;
const HEADER = "// gitlab-platform bundle ";

/**
 * The bundle's first line says what it was built from. It is fresh when it was built in this
 * checkout (absolute paths are baked in), for this Node ABI, and every input file still has
 * the size and mtime recorded.
 * `id` names the bundle's content, for its code cache.
 * @typedef {{ format: number, id: string, root: string, abi: string, inputs: [string, number, number][] }} Header
 */

/** @returns {{ source: string, header: Header } | undefined} */
function readBundle() {
  let source;
  try {
    source = readFileSync(BUNDLE, "utf8");
  } catch {
    return undefined;
  }
  const end = source.indexOf("\n");
  if (!source.startsWith(HEADER) || end < 0) return undefined;
  try {
    return { source, header: JSON.parse(source.slice(HEADER.length, end)) };
  } catch {
    return undefined;
  }
}

/** @param {Header} header */
function isFresh(header) {
  if (header.format !== FORMAT || header.root !== ROOT || header.abi !== process.versions.modules) return false;
  for (const [file, size, mtimeMs] of header.inputs) {
    const s = statSync(join(ROOT, file), { throwIfNoEntry: false });
    if (!s || s.size !== size || s.mtimeMs !== mtimeMs) return false;
  }
  return true;
}

/**
 * Each project source file that uses __dirname or __filename gets its own location as a
 * constant: the bundle lives elsewhere, and files read at run time beside a source
 * (userdata/scripts/*.sh, dashboards, the deploy-runner image) must still be found.
 * @type {import("esbuild").Plugin}
 */
const sourceLocation = {
  name: "source-location",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.split(sep).includes("node_modules")) return undefined;
      let contents = readFileSync(args.path, "utf8");
      const prelude = [];
      if (/\b__dirname\b/.test(contents)) prelude.push(`const __dirname = ${JSON.stringify(dirname(args.path))};`);
      if (/\b__filename\b/.test(contents)) prelude.push(`const __filename = ${JSON.stringify(args.path)};`);
      if (prelude.length > 0) contents = `${prelude.join(" ")}\n${contents}`;
      return { contents, loader: "ts" };
    });
  },
};

/** Builds the bundle and writes it atomically (concurrent runs never read half a file). */
async function build() {
  const esbuild = require("esbuild");
  const result = await esbuild.build({
    entryPoints: [ENTRY],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    target: `node${process.versions.node.split(".")[0]}`,
    format: "cjs",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [sourceLocation],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .map((file) => join(ROOT, file))
    .concat(__filename)
    .map((file) => {
      const s = statSync(file);
      return /** @type {[string, number, number]} */ ([relative(ROOT, file), s.size, s.mtimeMs]);
    });
  const code = result.outputFiles[0].text;
  const id = require("node:crypto").createHash("sha256").update(code).digest("hex").slice(0, 16);
  /** @type {Header} */
  const header = { format: FORMAT, id, root: ROOT, abi: process.versions.modules, inputs };
  const source = `${HEADER}${JSON.stringify(header)}\n${code}`;
  mkdirSync(CACHE, { recursive: true });
  const temporary = `${BUNDLE}.${process.pid}.tmp`;
  writeFileSync(temporary, source);
  renameSync(temporary, BUNDLE);
  // Code caches of earlier bundles are of no use any more.
  for (const file of readdirSync(CACHE)) if (file.endsWith(".v8cache")) rmSync(join(CACHE, file), { force: true });
  return { source, header };
}

/**
 * Runs the bundle as Node runs a CommonJS file, but through vm.Script with V8's code cache:
 * compiling 4 MB of JavaScript is a quarter of a short run. The cache is keyed by the
 * bundle's content (V8 itself checks only its length) and rewritten when V8 rejects it.
 * @param {{ source: string, header: Header }} bundle
 */
function load({ source, header }) {
  const cacheFile = join(CACHE, `cli.${header.id}.v8cache`);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: BUNDLE, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run, so that the functions it compiled on the way are in the cache too.
    process.once("exit", () => {
      try {
        const temporary = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(temporary, script.createCachedData());
        renameSync(temporary, cacheFile);
      } catch {
        // A cache that cannot be written only costs time.
      }
    });
  }
  const module = { exports: /** @type {Record<string, unknown>} */ ({}) };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, CACHE);
  return module.exports;
}

/** The unbundled sources through tsx: slower, for debugging and for comparing outputs. */
function loadSources() {
  require("tsx/cjs");
  return require(ENTRY);
}

async function main() {
  let commands;
  if (process.env.GITLAB_PLATFORM_BUNDLE === "0") {
    commands = loadSources();
  } else {
    const existing = readBundle();
    let bundle = existing && isFresh(existing.header) ? existing : undefined;
    if (bundle === undefined) {
      try {
        bundle = await build();
      } catch (error) {
        // No fallback to the sources: tsx transpiles with the same esbuild.
        const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
        throw new BundleError(
          `could not bundle the app with esbuild (${reason}). esbuild runs a binary from @esbuild/${process.platform}-${process.arch}: reinstall with npm ci.`,
        );
      }
    }
    commands = load(bundle);
  }
  const run = /** @type {(argv: string[]) => Promise<number>} */ (commands.main);
  process.exitCode = await run(process.argv.slice(2));
}

/** A failure to say in one line, without a stack trace. */
class BundleError extends Error {}

main().catch((error) => {
  const text = error instanceof BundleError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${text}\n`);
  process.exitCode = 1;
});
