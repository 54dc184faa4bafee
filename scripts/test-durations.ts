// Writes test/durations.json, the seconds each test file took in the last full `npm test` on
// this machine (vitest's own record in node_modules/.vite), for test/setup/sequencer.ts to
// start the slowest files first on a run that has no record of its own (a fresh clone, CI).
// Run it after a full `npm test` when files were added or got much slower or faster.
//   npm run test:durations
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DURATIONS_FILE } from "../test/setup/durations";

const ROOT = join(__dirname, "..");
const CACHE = join(ROOT, "node_modules", ".vite", "vitest");

/** vitest's results.json: [":<file>", { duration (ms), failed }] per test file. */
interface Results {
  readonly results: [string, { duration: number; failed: boolean }][];
}

function recorded(): Results["results"] {
  const files = existsSync(CACHE) ? readdirSync(CACHE).map((d) => join(CACHE, d, "results.json")) : [];
  const found = files.filter((f) => existsSync(f));
  if (found.length !== 1) throw new Error(`expected one vitest results file under ${CACHE}, found ${found.length}: run npm test first`);
  return (JSON.parse(readFileSync(found[0]!, "utf8")) as Results).results;
}

const durations: Record<string, number> = {};
for (const [key, { duration }] of recorded()) {
  const file = key.slice(key.indexOf(":") + 1);
  if (existsSync(join(ROOT, file))) durations[file] = Math.round(duration / 100) / 10;
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(DURATIONS_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`test-durations: ${Object.keys(sorted).length} files written to ${DURATIONS_FILE}`);
