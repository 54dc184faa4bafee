// Test files' durations and the order they start in (test/setup/sequencer.ts): no vitest
// imports here, so scripts/test-durations.ts can load it with tsx.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DURATIONS_FILE = join(__dirname, "..", "durations.json");

export interface FileTiming {
  /** Path from the repository root, as in test/durations.json. */
  readonly file: string;
  /** What vitest recorded on this machine: milliseconds, and whether the file failed. */
  readonly recorded?: { readonly duration: number; readonly failed: boolean };
  readonly size?: number;
}

/** Seconds per file from test/durations.json; none when it is missing or unreadable (order only). */
export function committedDurations(file = DURATIONS_FILE): Readonly<Record<string, number>> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, number>;
  } catch {
    return {};
  }
}

/** As vitest orders: failed first, then files with no duration (new ones), then the longest; the largest among equals. */
export function slowestFirst<T extends FileTiming>(files: readonly T[], committed: Readonly<Record<string, number>>): T[] {
  const duration = (f: FileTiming): number | undefined => {
    if (f.recorded) return f.recorded.duration;
    const seconds = committed[f.file];
    return seconds === undefined ? undefined : seconds * 1000;
  };
  return [...files].sort((a, b) => {
    const failed = Number(b.recorded?.failed ?? false) - Number(a.recorded?.failed ?? false);
    if (failed !== 0) return failed;
    const [da, db] = [duration(a), duration(b)];
    if (da === undefined && db !== undefined) return -1;
    if (db === undefined && da !== undefined) return 1;
    if (da !== undefined && db !== undefined && da !== db) return db - da;
    return (b.size ?? 0) - (a.size ?? 0);
  });
}
