// The bundle cache's housekeeping (cli/bundle-cache.cjs): what it keeps of bundles and of the
// checkouts it remembers. Finding and building bundles is test/cli/bundle.test.ts's, with
// real checkouts.
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../helpers";

const { BundleCache } = createRequire(import.meta.url)("../../cli/bundle-cache.cjs") as {
  BundleCache: new (root: string, entry: string, dir: string, runner: string) => { evict(): void };
};

it("keeps the four bundles and the sixteen checkouts most recently used, and nothing an older format left", () => {
  const dir = mkdtempSync(join(tmpdir(), "bundle-cache-"));
  const at = (name: string, minutesAgo: number, content = "{}") => {
    writeFileSync(join(dir, name), content);
    const when = new Date(Date.now() - minutesAgo * 60_000);
    utimesSync(join(dir, name), when, when);
  };
  const keys = ["a1", "b2", "c3", "d4", "e5", "f6"];
  keys.forEach((key, i) => {
    at(`cli.${key}.cjs`, 0);
    at(`cli.${key}.v8cache`, 0);
    at(`cli.${key}.json`, i, JSON.stringify({ key }));
  });
  for (let i = 0; i < 20; i++) at(`root.${(1000 + i).toString(16)}.json`, i);
  at("cli.cjs", 100);
  at("cli.0123abcd.v8cache", 100);
  new BundleCache(REPO_ROOT, join(REPO_ROOT, "cli", "main.ts"), dir, join(REPO_ROOT, "cli", "run.cjs")).evict();
  const left = readdirSync(dir);
  const bundles = left.filter((f) => f.startsWith("cli.")).sort();
  expect(bundles).toEqual(keys.slice(0, 4).flatMap((key) => [`cli.${key}.cjs`, `cli.${key}.json`, `cli.${key}.v8cache`]));
  expect(left.filter((f) => f.startsWith("root.")).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `root.${(1000 + i).toString(16)}.json`).sort());
});
