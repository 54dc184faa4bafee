// The order test files start in. The two cores stay busy to the end only when the slowest files
// start first: vitest does that from the durations it recorded on this machine
// (node_modules/.vite), and orders a run without any (a fresh clone, CI) by file size, which
// started some of the slowest files last: a fresh clone's first `npm test` took ~3 s longer.
// test/durations.json (written by `npm run test:durations` from a full run) gives those
// durations to a first run; what this machine recorded wins.
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { committedDurations, slowestFirst } from "./durations";

export default class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const timings = files.map((spec) => {
      const file = relative(config.root, spec.moduleId);
      const key = `${spec.project.name}:${file}`;
      return { spec, file, recorded: cache.getFileTestResults(key), size: cache.getFileStats(key)?.size };
    });
    return slowestFirst(timings, committedDurations()).map((t) => t.spec);
  }
}
