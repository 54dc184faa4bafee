// The run's temporary directory (run-tmpdir.ts): what the run writes there is gone after it.
import { existsSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import setup, { TSX_CACHE } from "./run-tmpdir";

it("points TMPDIR at a directory of the run's own and removes it, with what is in it, when the run ends", async () => {
  const outer = process.env.TMPDIR;
  const teardown = setup();
  const dir = tmpdir();
  try {
    expect(dirname(dir)).toBe(outer ?? "/tmp");
    expect(dir).toMatch(/\/gitlab-platform-tests-[^/]+$/);
    writeFileSync(join(dir, "left-behind"), "x");
  } finally {
    teardown();
  }
  expect(process.env.TMPDIR).toBe(outer);
  const deadline = Date.now() + 5_000;
  while (existsSync(dir) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(existsSync(dir)).toBe(false);
});

it("leaves tsx's cache where tsx keeps it, so a run's first tsx process finds the sources compiled", () => {
  const outer = tmpdir();
  const teardown = setup();
  try {
    expect(realpathSync(join(tmpdir(), TSX_CACHE))).toBe(realpathSync(join(outer, TSX_CACHE)));
  } finally {
    teardown();
  }
  expect(existsSync(join(outer, TSX_CACHE)), "the cache outlives the run").toBe(true);
});
