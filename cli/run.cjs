#!/usr/bin/env node
// @ts-check
// Starts the app and the npm commands fast: runs a bundle of cli/main.ts (one file, built by
// esbuild, with V8's compiled code cached beside it) instead of transpiling ~150 TypeScript
// files on every run. cli/bundle-cache.cjs finds the bundle for this checkout's sources, or
// builds it. GITLAB_PLATFORM_BUNDLE=0 runs the sources through tsx instead, exactly as
// `node --require tsx/cjs main.ts` does.
//   node cli/run.cjs <command> [args]      (the npm scripts and cdktf.json call this)
"use strict";
const { readFileSync, renameSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { join, resolve } = require("node:path");
const v8 = require("node:v8");
const vm = require("node:vm");
const { BundleCache, EsbuildFailed, ROOT_PARAMETER, cacheDir } = require("./bundle-cache.cjs");
const { SHORT_RUN_V8_FLAGS } = require("./short-run-tiering.cjs");

// Before any of the app's code runs (./short-run-tiering.cjs).
for (const flag of SHORT_RUN_V8_FLAGS) v8.setFlagsFromString(flag);

const ROOT = resolve(__dirname, "..");
const ENTRY = join(ROOT, "cli", "main.ts");
const CACHE = cacheDir(ROOT);

/**
 * Runs the bundle as Node runs a CommonJS file, but through vm.Script with V8's code cache:
 * compiling 4 MB of JavaScript is a quarter of a short run. The cache is keyed by the
 * bundle's content (V8 itself checks only its length) and rewritten when V8 rejects it.
 * @param {BundleCache} cache
 * @param {{ key: string, source: string }} bundle
 */
function load(cache, { key, source }) {
  const file = cache.file(key);
  const cacheFile = cache.file(key, "v8cache");
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname, ${ROOT_PARAMETER}) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: file, cachedData });
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
  script.runInThisContext()(module.exports, createRequire(file), module, file, CACHE, ROOT);
  return module.exports;
}

/** The unbundled sources through tsx: slower, for debugging and for comparing outputs. */
function loadSources() {
  require("tsx/cjs");
  return require(ENTRY);
}

/** The bundle for this checkout, found or built; a build that fails is one line to say. */
async function loadBundle() {
  const cache = new BundleCache(ROOT, ENTRY, CACHE, __filename);
  let bundle;
  try {
    bundle = await cache.find();
  } catch (error) {
    if (!(error instanceof EsbuildFailed)) throw error;
    // No fallback to the sources: tsx transpiles with the same esbuild.
    throw new BundleError(
      `could not bundle the app with esbuild (${error.message}). esbuild runs a binary from @esbuild/${process.platform}-${process.arch}: reinstall with npm ci.`,
    );
  }
  return load(cache, bundle);
}

async function main() {
  const commands = process.env.GITLAB_PLATFORM_BUNDLE === "0" ? loadSources() : await loadBundle();
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
