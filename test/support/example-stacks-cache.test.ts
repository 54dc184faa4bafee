// The run's example stacks are kept by their inputs (example-stacks-cache.ts): every change to
// what they are made from must give a new key, and a kept entry is whole or absent. That the
// kept stacks are what the sources synthesize now is test/main.test.ts's check.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExampleStacksCache, inputsKey } from "./example-stacks-cache";

/** A git checkout with a source, a test file, an ignored file and an example. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), "example-stacks-cache-"));
  mkdirSync(join(root, "config"));
  mkdirSync(join(root, "test"));
  writeFileSync(join(root, "stack.ts"), "export const size = 1;\n");
  writeFileSync(join(root, "config", "homelab.yaml"), "platform: docker\n");
  writeFileSync(join(root, "test", "stack.test.ts"), "it('is', () => {});\n");
  writeFileSync(join(root, ".gitignore"), "cdktf.out/\nnode_modules/\n");
  execFileSync("git", ["init", "-q"], { cwd: root });
  execFileSync("git", ["add", "-A"], { cwd: root });
  return root;
}

/** A cache directory outside the checkout (in use: node_modules/.cache, ignored, or GITLAB_PLATFORM_CACHE_DIR). */
const cacheDirectory = () => join(mkdtempSync(join(tmpdir(), "example-stacks-kept-")), "example-stacks");

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

describe("the example stacks' key", () => {
  it("changes with any file of the checkout but the test files, tracked or not, and with a file removed", () => {
    const root = checkout();
    const first = inputsKey(root);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(inputsKey(root)).toBe(first);

    writeFileSync(join(root, "test", "stack.test.ts"), "it('is still', () => {});\n");
    mkdirSync(join(root, "cdktf.out"));
    writeFileSync(join(root, "cdktf.out", "ignored"), "ignored\n");
    expect(inputsKey(root)).toBe(first);

    writeFileSync(join(root, "config", "homelab.yaml"), "platform: aws\n");
    const changed = inputsKey(root);
    expect(changed).not.toBe(first);

    writeFileSync(join(root, "new-construct.ts"), "export {};\n");
    const added = inputsKey(root);
    expect(added).not.toBe(changed);

    rmSync(join(root, "stack.ts"));
    expect(inputsKey(root)).not.toBe(added);
  });

  it("changes with the packages installed and with what synthesis reads from the environment, not with other variables", () => {
    const root = checkout();
    const first = inputsKey(root);
    mkdirSync(join(root, "node_modules"));
    writeFileSync(join(root, "node_modules", ".package-lock.json"), '{"packages":{}}\n');
    const installed = inputsKey(root);
    expect(installed).not.toBe(first);

    process.env.UNRELATED_SETTING = "1";
    expect(inputsKey(root)).toBe(installed);
    for (const name of ["GITLAB_CONFIG_DIR", "CDKTF_CONTEXT_JSON", "SYNTH_HCL_OUTPUT", "TF_VAR_x", "DOCKER_HOST"]) {
      process.env[name] = "set";
      expect(inputsKey(root), name).not.toBe(installed);
      delete process.env[name];
    }
  });

  it("is the checkout's own: the same files elsewhere give another key", () => {
    const a = checkout();
    const b = checkout();
    expect(inputsKey(a)).not.toBe(inputsKey(b));
  });

  it("is undefined for a copy inside another repository, which lists none of the copy's files", () => {
    const parent = checkout();
    writeFileSync(join(parent, ".gitignore"), "*\n");
    const copy = join(parent, "copy");
    mkdirSync(copy);
    writeFileSync(join(copy, "stack.ts"), "export const size = 1;\n");
    expect(inputsKey(copy)).toBeUndefined();
    expect(inputsKey(parent)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("takes an untracked repository inside the checkout as a directory, and a link by its target", () => {
    const root = checkout();
    mkdirSync(join(root, "vendor-tool"));
    execFileSync("git", ["init", "-q"], { cwd: join(root, "vendor-tool") });
    symlinkSync(join(root, "config"), join(root, "linked-config"));
    const first = inputsKey(root);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    rmSync(join(root, "linked-config"));
    symlinkSync(join(root, "test"), join(root, "linked-config"));
    expect(inputsKey(root)).not.toBe(first);
  });

  it("is undefined outside a git checkout: nothing is kept, the stacks go to this run's temporary directory", () => {
    const root = mkdtempSync(join(tmpdir(), "example-stacks-nogit-"));
    const cacheDir = join(root, "cache");
    const cache = new ExampleStacksCache(root, cacheDir);
    expect(cache.key).toBeUndefined();
    expect(cache.find()).toBeUndefined();
    const scratch = cache.scratch();
    expect(scratch.startsWith(tmpdir())).toBe(true);
    expect(cache.keep(scratch)).toBe(scratch);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe("the kept example stacks", () => {
  it("are found only once kept, whole, under their key", () => {
    const root = checkout();
    const dir = cacheDirectory();
    const cache = new ExampleStacksCache(root, dir);
    expect(cache.find()).toBeUndefined();
    const scratch = cache.scratch();
    writeFileSync(join(scratch, "homelab.json"), "{}");
    writeFileSync(join(scratch, "homelab-gitlab.json"), "{}");
    // Until kept, a scratch directory is not an entry.
    expect(cache.find()).toBeUndefined();
    const kept = cache.keep(scratch);
    expect(kept).toBe(join(dir, cache.key!));
    expect(existsSync(scratch)).toBe(false);
    expect(readdirSync(kept).sort()).toEqual(["homelab-gitlab.json", "homelab.json"]);
    expect(new ExampleStacksCache(root, dir).find()).toBe(kept);
  });

  it("a second run keeping the same inputs' stacks meanwhile leaves the first's, and no scratch directory", () => {
    const root = checkout();
    const dir = cacheDirectory();
    const one = new ExampleStacksCache(root, dir);
    const two = new ExampleStacksCache(root, dir);
    const first = one.scratch();
    const second = two.scratch();
    writeFileSync(join(first, "from"), "one");
    writeFileSync(join(second, "from"), "two");
    const kept = one.keep(first);
    expect(two.keep(second)).toBe(kept);
    expect(readdirSync(dir)).toEqual([one.key]);
    expect(readdirSync(kept)).toEqual(["from"]);
  });

  it("keeps the four most recently used and any used within the hour, and removes scratch directories older than an hour", () => {
    const root = checkout();
    const dir = cacheDirectory();
    mkdirSync(dir);
    const old = new Date(Date.now() - 2 * 3_600_000);
    for (const [i, name] of ["a", "b", "c", "d", "e", ".abandoned-1"].entries()) {
      mkdirSync(join(dir, name));
      const used = new Date(old.getTime() + i * 1000);
      utimesSync(join(dir, name), used, used);
    }
    mkdirSync(join(dir, ".in-use-2"));
    // Beyond the four, but a run started with it minutes ago.
    mkdirSync(join(dir, "f"));
    const recently = new Date(Date.now() - 600_000);
    utimesSync(join(dir, "f"), recently, recently);
    for (const name of ["c", "d", "e"]) utimesSync(join(dir, name), new Date(Date.now() - 300_000), new Date(Date.now() - 300_000));
    const cache = new ExampleStacksCache(root, dir);
    cache.keep(cache.scratch());
    expect(readdirSync(dir).sort()).toEqual([".in-use-2", cache.key, "c", "d", "e", "f"].sort());
  });
});
