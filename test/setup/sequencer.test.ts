// The order test files start in (test/setup/sequencer.ts, test/setup/durations.ts): the slowest first, from what this
// machine recorded, else from test/durations.json.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../examples";
import { committedDurations, DURATIONS_FILE, type FileTiming, slowestFirst } from "./durations";

const order = (files: FileTiming[], committed: Record<string, number> = {}) => slowestFirst(files, committed).map((f) => f.file);

describe("the test sequencer", () => {
  it("starts the longest files first, by what this machine recorded", () => {
    const files = [
      { file: "a", recorded: { duration: 100, failed: false } },
      { file: "b", recorded: { duration: 9000, failed: false } },
      { file: "c", recorded: { duration: 2000, failed: false } },
    ];
    expect(order(files)).toEqual(["b", "c", "a"]);
  });

  it("takes test/durations.json's seconds for files with no record, and a record over them", () => {
    const files = [{ file: "small" }, { file: "slow" }, { file: "recorded", recorded: { duration: 5000, failed: false } }];
    expect(order(files, { small: 0.2, slow: 12.5, recorded: 30 })).toEqual(["slow", "recorded", "small"]);
  });

  it("starts failed files first and files with no duration anywhere next, the largest first among them", () => {
    const files = [
      { file: "known", recorded: { duration: 9000, failed: false } },
      { file: "new-small", size: 10 },
      { file: "failed", recorded: { duration: 10, failed: true } },
      { file: "new-large", size: 5000 },
    ];
    expect(order(files)).toEqual(["failed", "new-large", "new-small", "known"]);
  });

  it("orders by size alone without test/durations.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "durations-"));
    expect(committedDurations(join(dir, "missing.json"))).toEqual({});
    writeFileSync(join(dir, "broken.json"), "{");
    expect(committedDurations(join(dir, "broken.json"))).toEqual({});
    expect(
      order(
        [
          { file: "a", size: 1 },
          { file: "b", size: 2 },
        ],
        committedDurations(join(dir, "broken.json")),
      ),
    ).toEqual(["b", "a"]);
  });

  it("test/durations.json names only test files that exist, with their seconds", () => {
    const durations = committedDurations();
    expect(Object.keys(durations).length).toBeGreaterThan(100);
    for (const [file, seconds] of Object.entries(durations)) {
      expect(file).toMatch(/^test\/.+\.test\.ts$/);
      expect(existsSync(join(REPO_ROOT, file)), `${file} in ${DURATIONS_FILE} no longer exists: npm run test:durations`).toBe(true);
      expect(seconds).toBeGreaterThanOrEqual(0);
    }
  });
});
